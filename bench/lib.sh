# shellcheck shell=bash
# Helpers of the bench scripts, sourced by them (`. bench/lib.sh` from the repository's root).
#   now                 this machine's clock, seconds with nanoseconds
#   since T             seconds since T (a `now`), one decimal
#   add KEY VALUE       appends VALUE to results[KEY] (one run's figure)
#   median <<<"A B C"   the median of the numbers read (blank-separated, empty ones skipped)
now() { date +%s.%N; }
since() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$1" "$(now)"; }
declare -A results
add() { results[$1]+="$2 "; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
