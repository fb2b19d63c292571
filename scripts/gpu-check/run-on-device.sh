#!/usr/bin/env bash
# Builds the llama.cpp vendored in llama-cpp-sys-2 with CUDA for Hopper (sm_90) on the GPU
# machine and runs offload_check with the default model on CPU only and fully offloaded.
# Run from the repository root with the vendored source packed as a tarball:
#   tar -C ~/.cargo/registry/src/*/llama-cpp-sys-2-0.1.161 -cJf gpu-carry/llama.cpp.tar.xz llama.cpp
#   scripts/gpu-check/run-on-device.sh gpu-carry/llama.cpp.tar.xz
# Builds into /tmp/gpucheck and writes the configure and build logs to $OUT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tarball=${1:?the llama.cpp source tarball}
work=/tmp/gpucheck
mkdir -p "$work"
if [ ! -d "$work/llama.cpp" ]; then tar -xJf "$tarball" -C "$work"; fi
cmake -S "$work/llama.cpp" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_FA=OFF -DGGML_NATIVE=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=ON > "$OUT/cmake.log" 2>&1
cmake --build "$work/build" -j 16 --target llama > "$OUT/build.log" 2>&1
g++ -O2 -std=c++17 "$here/offload_check.cpp" -I "$work/llama.cpp/include" -I "$work/llama.cpp/ggml/include" \
  -L "$work/build/bin" -lllama -lggml -lggml-base -Wl,-rpath,"$work/build/bin" -o "$work/offload_check"
echo "built"
