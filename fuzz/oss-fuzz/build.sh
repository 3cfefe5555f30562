#!/bin/bash -eu
# OSS-Fuzz's build script for projects/lockstep/ (copy this directory there): the repository's
# own ClusterFuzzLite build, so that both build the same targets the same way.
exec "$SRC/lockstep/.clusterfuzzlite/build.sh"
