# The two commands of the quick start:
#   make run    install what is missing, build, render the demo video, then
#               start the service on http://127.0.0.1:8080 (data in ./data)
#   make test   install what is missing, build, run the whole test suite
BUILD ?= build
JOBS  ?= $(shell nproc)
# ccache hits across checkouts in different folders (CI clones anew).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

DEMO_INPUT  := assets/demo/rocket.jpg
DEMO_OUTPUT := data/demo.mp4

.PHONY: all deps configure build test run bench format clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@test -f $(BUILD)/build.ninja || cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

run: build
	@mkdir -p data
	$(BUILD)/imagevideo render $(DEMO_INPUT) -o $(DEMO_OUTPUT) --camera ken-burns --size 720p --duration 6
	@echo "Demo video written to $(abspath $(DEMO_OUTPUT))"
	$(BUILD)/imagevideo serve

bench: build
	@scripts/install-deps --bench
	bench/camera_vs_ffmpeg.sh

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h')

clean:
	rm -rf $(BUILD)
