#!/usr/bin/env bash
# Camera-motion benchmark: imagevideo against its peers, in one run on one
# machine. A 5 s 1080p30 zoom-in (1.25x) of a 2560x1600 photo, rendered by
#   imagevideo      `imagevideo render --camera zoom-in`
#   zoompan         ffmpeg's zoompan filter + libx264, the usual tool
#   zoompan-up      zoompan on a 4x upscaled input, the usual jitter workaround
#   x264-alone      libx264 encoding imagevideo's own frames from raw YUV:
#                   the floor, the cost of encoding alone
# all at the same x264 preset and CRF. Prints wall times (median of REPEAT
# runs), the ratios the project targets, and each video's camera-path jitter
# from motion_metrics.py (RMS second difference of frame-to-frame motion).
#
# Usage: bench/camera_vs_ffmpeg.sh [PHOTO]
#   PHOTO       default ../shared/data/photos/kde-Kite.jpg (2560x1600)
#   REPEAT=3    runs per contender
#   METRICS=... path to motion_metrics.py (default ../shared/tools/)
#   IMAGEVIDEO=build/imagevideo
# Needs: ffmpeg, python3-opencv, python3-scipy (`scripts/install-deps --bench`).
set -euo pipefail
cd "$(dirname "$0")/.."

photo=${1:-../shared/data/photos/kde-Kite.jpg}
bin=${IMAGEVIDEO:-build/imagevideo}
metrics=${METRICS:-../shared/tools/motion_metrics.py}
repeat=${REPEAT:-3}
# The x264 settings of imagevideo's "balanced" quality (media/video_encoder.h).
preset=medium
crf=20
duration=5 fps=30 width=1920 height=1080 zoom=1.25
frames=$((duration * fps))

[[ -x $bin ]] || { echo "build first: make build" >&2; exit 1; }
[[ -f $photo ]] || { echo "no photo at $photo (pass one as the first argument)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Source size, to crop it to 16:9 for zoompan exactly as imagevideo's cover
# fit does (centred, full width).
read -r src_w src_h < <(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 "$photo" | tr ',' ' ')
crop_h=$((src_w * 9 / 16 / 2 * 2))
if ((crop_h > src_h)); then crop_w=$((src_h * 16 / 9 / 2 * 2)); crop_h=$src_h; else crop_w=$src_w; fi

# The same move for zoompan: zoom = 1.25^(n/(N-1)) (imagevideo interpolates
# zoom in log space, i.e. a constant rate), centred.
zp="zoompan=z='pow($zoom,on/$((frames - 1)))':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=$frames:s=${width}x${height}:fps=$fps"

run_imagevideo() {
  "$bin" render "$photo" -o "$work/imagevideo.mp4" --camera zoom-in --intensity 0.5 --easing linear \
    --duration $duration --fps $fps --size 1080p --aspect 16:9 --quality balanced
}
run_zoompan() {
  ffmpeg -v error -y -loop 1 -framerate $fps -i "$photo" \
    -vf "crop=$crop_w:$crop_h,$zp,format=yuv420p" -frames:v $frames \
    -c:v libx264 -preset $preset -crf $crf "$work/zoompan.mp4"
}
run_zoompan_up() {
  ffmpeg -v error -y -loop 1 -framerate $fps -i "$photo" \
    -vf "crop=$crop_w:$crop_h,scale=$((crop_w * 4)):-2,$zp,format=yuv420p" -frames:v $frames \
    -c:v libx264 -preset $preset -crf $crf "$work/zoompan-up.mp4"
}
run_x264_alone() {
  ffmpeg -v error -y -f rawvideo -pix_fmt yuv420p -s ${width}x${height} -r $fps -i "$work/frames.yuv" \
    -c:v libx264 -preset $preset -crf $crf "$work/x264-alone.mp4"
}

# Median wall time of `repeat` runs of a function, in seconds.
time_it() {
  local times=()
  for ((i = 0; i < repeat; i++)); do
    local t0 t1
    t0=$(date +%s.%N)
    "$1"
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

jitter() {
  /usr/bin/python3 "$metrics" "$1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["jitter_px"])'
}

echo "photo: $photo (${src_w}x${src_h}), ${duration}s ${width}x${height}@${fps}, zoom ${zoom}x, x264 $preset crf $crf, $(nproc) cores, median of $repeat"
t_iv=$(time_it run_imagevideo)
ffmpeg -v error -y -i "$work/imagevideo.mp4" -f rawvideo -pix_fmt yuv420p "$work/frames.yuv"
t_x264=$(time_it run_x264_alone)
t_zp=$(time_it run_zoompan)
t_zpu=$(time_it run_zoompan_up)

printf '\n%-12s %8s %14s %12s %10s\n' contender wall_s vs_x264_alone vs_zoompan jitter_px
for name in imagevideo x264-alone zoompan zoompan-up; do
  case $name in
    imagevideo) t=$t_iv ;; x264-alone) t=$t_x264 ;; zoompan) t=$t_zp ;; zoompan-up) t=$t_zpu ;;
  esac
  printf '%-12s %8.2f %14.3f %12.3f %10s\n' "$name" "$t" "$(echo "$t / $t_x264" | bc -l)" \
    "$(echo "$t / $t_zp" | bc -l)" "$(jitter "$work/$name.mp4")"
done
echo
echo "targets: imagevideo <= 1.15x x264-alone, <= 0.95x zoompan, jitter <= 0.12 px"
