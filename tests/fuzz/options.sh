# Reads a target's settings from tests/fuzz/<target>.options (sourced by tests/fuzz/smoke.sh and
# scripts/fuzz). The file has OSS-Fuzz's layout:
#   [libfuzzer]          flags for the fuzzer: `max_len = 4096` becomes -max_len=4096; a
#   max_len = 4096       `dict` is a path relative to tests/fuzz/
#   dict = dict/http.dict
#   [sheepdog]           our own: smoke_runs = executions of the ctest smoke run
#   smoke_runs = 20000
# Sets FUZZ_FLAGS (array) and FUZZ_SMOKE_RUNS (default 10000).
fuzz_read_options() {
  local fuzz_dir=$1 target=$2
  local file=$fuzz_dir/$target.options section="" line key value
  FUZZ_FLAGS=()
  FUZZ_SMOKE_RUNS=10000
  [[ -f $file ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}
    line=$(echo "$line" | tr -d '[:space:]')
    [[ -z $line ]] && continue
    if [[ $line == \[*\] ]]; then
      section=${line:1:-1}
      continue
    fi
    key=${line%%=*}
    value=${line#*=}
    case "$section:$key" in
      libfuzzer:dict) FUZZ_FLAGS+=("-dict=$fuzz_dir/$value") ;;
      libfuzzer:*) FUZZ_FLAGS+=("-$key=$value") ;;
      sheepdog:smoke_runs) FUZZ_SMOKE_RUNS=$value ;;
      *) echo "fuzz options: $file: unknown setting '$key' in [$section]" >&2; return 1 ;;
    esac
  done <"$file"
}

# Sanitizer reports with file:line stacks: ASan and UBSan look for `llvm-symbolizer` on PATH,
# which Debian names llvm-symbolizer-14 unless the unversioned `llvm` package is installed too.
if [[ -z ${ASAN_SYMBOLIZER_PATH:-} ]] && ! command -v llvm-symbolizer >/dev/null &&
  command -v llvm-symbolizer-14 >/dev/null; then
  export ASAN_SYMBOLIZER_PATH
  ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer-14)
fi
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
