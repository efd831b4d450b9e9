#!/usr/bin/env bash
# Build llama.cpp's `llama-server` (continuous batching for local/ models, players/llama_server.py)
# from the source distribution of the llama-cpp-python that is installed: the same llama.cpp, and no
# download beyond the package index, compiled as the README's CMAKE_ARGS say. Idempotent: with the
# binary in place it does nothing.
#
#   scripts/build-llama-server.sh        # -> ~/.cache/arena/llama-server-<version>/llama-server
#   ARENA_LLAMA_SERVER=/opt/llama-server scripts/build-llama-server.sh   # another place
set -euo pipefail

PYTHON="${PYTHON:-python}"
VERSION="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')"
TARGET="${ARENA_LLAMA_SERVER:-$HOME/.cache/arena/llama-server-$VERSION/llama-server}"
if [ -x "$TARGET" ]; then
  echo "llama-server $VERSION is already built: $TARGET"
  exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$WORK"
tar -xzf "$WORK"/llama_cpp_python-"$VERSION".tar.gz -C "$WORK"
SRC="$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp"

# Built with the README's CMAKE_ARGS, as llama-cpp-python is: clang, since GCC before 14 miscompiles
# ggml's AMX kernels (llama.cpp #20824), which on a CPU with AMX decode the embedded model about
# twice as fast. A GCC before 14 builds it without AMX on such a CPU.
mapfile -t ARGS < <("$PYTHON" -c 'import os, shlex; print("\n".join(shlex.split(os.environ.get("CMAKE_ARGS", ""))))')
CXX_USED="${CXX:-c++}"
for arg in "${ARGS[@]}"; do
  case "$arg" in -DCMAKE_CXX_COMPILER=*) CXX_USED="${arg#*=}" ;; esac
done
gcc_before_14() { ! "$1" --version 2>/dev/null | grep -qi clang && [ "$("$1" -dumpversion | cut -d. -f1)" -lt 14 ]; }
if grep -qw amx_tile /proc/cpuinfo 2>/dev/null && gcc_before_14 "$CXX_USED"; then
  ARGS+=(-DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
         -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
         -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
fi
# The web UI is not built from npm nor fetched from Hugging Face (LLAMA_*_UI=OFF): the build
# needs no network. Static libraries: the binary is one file that can be moved.
cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_APP=OFF "${ARGS[@]}" >"$WORK/cmake.log" 2>&1 || { tail -40 "$WORK/cmake.log"; exit 1; }
cmake --build "$WORK/build" --config Release --target llama-server -j "$(nproc)" >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log"; exit 1; }
mkdir -p "$(dirname "$TARGET")"
install -m 755 "$WORK/build/bin/llama-server" "$TARGET.tmp" && mv "$TARGET.tmp" "$TARGET"
echo "built llama-server $VERSION: $TARGET"
