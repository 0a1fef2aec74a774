# shellcheck shell=sh
# The host side of `hermes-fleet generations`: lists the generations kept in root's directory
# (its path is the one line on stdin, `dir=PATH`; src/apply/ops/generations.sh records them). Read-only.
#
# Output: `current<TAB>N` (the generation the host is on, empty when none), then per generation
# `generation<TAB>N`, its meta lines as `meta<TAB>key=value` and its manifest lines as
# `file<TAB>name<TAB>mode:user:group|absent<TAB>sha256<TAB>secret`. Never a file's content.
export LC_ALL=C
IFS= read -r line || exit 0
dir=${line#dir=}
[ -d "$dir" ] || exit 0
printf 'current\t%s\n' "$(cat -- "$dir/current" 2>/dev/null </dev/null)"
for g in "$dir"/*; do
  n=${g##*/}
  case $n in '' | *[!0-9]*) continue ;; esac
  printf 'generation\t%s\n' "$n"
  if [ -f "$g/meta" ]; then
    while IFS= read -r l; do printf 'meta\t%s\n' "$l"; done <"$g/meta"
  fi
  if [ -f "$g/manifest" ]; then
    while IFS= read -r l; do printf 'file\t%s\n' "$l"; done <"$g/manifest"
  fi
done
printf 'end\n'
