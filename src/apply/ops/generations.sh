# shellcheck shell=sh
# ops/generations.sh (part of apply.sh): the generations kept in root's directory:
# generation (record_generation: a new one recorded, the oldest pruned) and generation-restore
# (restore_generation: a kept one put back, each file by an ordinary file or remove operation of
# its own actor, through dispatch). Offers nothing to the others.

op_generation() { (record_generation) || exit "$failed"; }
op_generation_restore() { restore_generation; }

# A copy of file $2 (read as account $3, `-` for root) kept as $1 in the new generation, and its
# line in the manifest: name, mode:user:group (or absent), sha256, secret (1 or 0), path, account
# (what restore_generation needs to put it back). The account's
# files are read by the account, and the bytes stream to root here: root never opens a name in
# the account's tree.
keep_file() {
  dest=$new/files/$1
  mkdir -p -- "${dest%/*}" || fail "cannot create ${dest%/*}"
  if [ "$3" = - ]; then
    st=$(stat -L -c '%a:%U:%G' -- "$2" 2>/dev/null </dev/null) || st=
    if [ -n "$st" ]; then cat -- "$2" >"$dest" </dev/null || fail "cannot read $2"; fi
  else
    g=$(id -g -- "$3" 2>/dev/null </dev/null) || fail "user $3 does not exist"
    # Never fd 9, root's lock (ops/lock.sh): the account's process must not reach it.
    st=$(setpriv --reuid="$3" --regid="$g" --init-groups -- stat -L -c '%a:%U:%G' -- "$2" \
      2>/dev/null </dev/null 9>&-) || st=
    if [ -n "$st" ]; then
      setpriv --reuid="$3" --regid="$g" --init-groups -- cat -- "$2" >"$dest" </dev/null 9>&- ||
        fail "cannot read $2 as $3"
    fi
  fi
  if [ -n "$st" ]; then
    sum=$(sha256sum <"$dest") || fail "cannot hash $dest"
    sum=${sum%% *}
  else
    st=absent sum=-
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$st" "$sum" "$4" "$2" "$3" >>"$new/manifest" ||
    fail "cannot write $new/manifest"
}

# A new generation in root's directory $path (see the `generation` change, src/changes/generations.ts):
# N+1 (N the highest there), made under a temporary name and renamed whole, then `current`
# names it and all but the newest $keep are removed. Everything in it is root's, 0600 in 0700.
record_generation() {
  umask 077
  gbody=$(head -c "$size")
  mkdir -p -- "$path" || fail "cannot create $path"
  chmod 0700 -- "$path" || fail "cannot chmod $path"
  last=0
  for g in "$path"/*; do
    n=${g##*/}
    case $n in '' | *[!0-9]*) continue ;; esac
    [ "$n" -le "$last" ] || last=$n
  done
  n=$((last + 1))
  new=$path/.new.$n
  rm -rf -- "$new"
  mkdir -- "$new" "$new/files" || fail "cannot create $new"
  printf 'number=%s\ntime=%s\n' "$n" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$new/meta" ||
    fail "cannot write $new/meta"
  : >"$new/manifest"
  while IFS=$T read -r kind a1 a2 a3 a4; do
    case $kind in
    meta) printf '%s\n' "$a1" >>"$new/meta" ;;
    link)
      if t=$(readlink -- "$a1" 2>/dev/null </dev/null); then
        printf 'release=%s\n' "${t##*/}" >>"$new/meta"
      fi
      ;;
    file) keep_file "$a1" "$a2" "$a3" "$a4" ;;
    esac
  done <<BODY
$gbody
BODY
  mv -T -- "$new" "$path/$n" || fail "cannot rename $new to $path/$n"
  printf '%s\n' "$n" >"$path/.current.new" || fail "cannot write $path/current"
  mv -f -- "$path/.current.new" "$path/current" || fail "cannot write $path/current"
  # Numbered below n, newest first: the ones beyond $keep (n itself counted) go.
  count=1
  while [ "$n" -gt 1 ]; do
    n=$((n - 1))
    [ -d "$path/$n" ] || continue
    count=$((count + 1))
    [ "$count" -le "$keep" ] || rm -rf -- "${path:?}/$n"
  done
}

# Puts generation $name back (`previous`: the newest one below the current): each file it kept is
# written to its path by an ordinary `file` operation of its own actor, with the kept bytes as its
# body; one it found absent is removed. With `undo=each` each is kept first (undo=path), so a
# failure of the restart after it puts back the state before the restore.
restore_generation() {
  g=$name
  if [ "$g" = previous ]; then
    cur=$(cat -- "$path/current" 2>/dev/null </dev/null) || fail "no generation recorded on this host"
    g=
    n=$cur
    while [ "$n" -gt 1 ]; do
      n=$((n - 1))
      if [ -d "$path/$n" ]; then
        g=$n
        break
      fi
    done
    [ -n "$g" ] || fail "no generation before $cur is kept on this host (see hermes-fleet generations)"
  fi
  src=$path/$g
  [ -f "$src/manifest" ] || fail "generation $g is not kept on this host (see hermes-fleet generations)"
  armed=
  [ "$undo" != each ] || armed=1
  at=$i
  while IFS=$T read -r fname fattrs _ _ fpath fas <&6; do
    [ -n "$fpath" ] || fail "generation $g has no paths in its manifest (recorded by an older hermes-fleet)"
    if [ "$fattrs" = absent ]; then
      line="$at${T}remove${T}path=$fpath"
      body=/dev/null
    else
      body=$src/files/$fname
      fsize=$(stat -c %s -- "$body" </dev/null) || fail "generation $g lacks its copy of $fname"
      fmode=${fattrs%%:*}
      fown=${fattrs#*:}
      line="$at${T}file${T}path=$fpath${T}mode=$fmode${T}user=${fown%%:*}${T}group=${fown#*:}${T}size=$fsize"
    fi
    [ "$fas" = - ] || line="$line${T}as=$fas"
    [ -z "$armed" ] || line="$line${T}undo=path"
    parse "$line"
    dispatch <"$body"
  done 6<"$src/manifest"
  printf 'restored\t%s\n' "$g"
}
