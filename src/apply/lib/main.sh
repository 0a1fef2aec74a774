# shellcheck shell=sh
# lib/main.sh, the last part of apply.sh: the loop over the operation lines on stdin, each parsed
# (src/exec/line-field.sh) and dispatched (lib/actors.sh), then `end` or `interrupted`.

retried=
while :; do
  if ! IFS= read -r line; then
    # dash's read returns 1 both at EOF and when the INT trap fires while it waits for input.
    if [ -n "$stop" ] && [ -z "$retried" ]; then
      retried=1
      continue
    fi
    break
  fi
  parse "$line"
  dispatch
  printf '%s\tok\n' "$i"
done
i=-
if [ -n "$stop" ]; then printf 'interrupted\n'; else printf 'end\n'; fi
