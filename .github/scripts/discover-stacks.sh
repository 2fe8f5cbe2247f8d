#!/usr/bin/env bash
# Discover the Pulumi stacks of this project from the stack config files.
#
#   discover-stacks.sh [DIR]
#
# Every Pulumi.<name>.yaml in DIR (default: the current directory; only that
# directory, not its subdirectories) is one stack; Pulumi.yaml, the project
# file, is not a stack. Pulumi.shared.yaml must exist: the shared stack
# (Redis) is deployed before every tenant.
#
# Prints two lines in the format of $GITHUB_OUTPUT, each a compact JSON array:
#   stacks=["shared","client-a","client-b"]   every stack, shared first
#   tenants=["client-a","client-b"]           every stack except shared
# Tenants are sorted (C locale), so the output does not depend on the file
# system. A workflow step uses it as:
#   .github/scripts/discover-stacks.sh >> "$GITHUB_OUTPUT"
set -euo pipefail

dir="${1:-.}"
if [[ ! -d "$dir" ]]; then
  echo "discover-stacks: not a directory: $dir" >&2
  exit 2
fi
if [[ ! -f "$dir/Pulumi.shared.yaml" ]]; then
  echo "discover-stacks: $dir/Pulumi.shared.yaml is missing; the shared stack must exist" >&2
  exit 1
fi

shopt -s nullglob
tenants=()
for file in "$dir"/Pulumi.*.yaml; do
  [[ -f "$file" ]] || continue
  name="$(basename "$file")"
  name="${name#Pulumi.}"
  name="${name%.yaml}"
  # A name that could not be a stack name, or would need escaping in JSON or
  # in an expression, is refused rather than passed on.
  if [[ ! "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
    echo "discover-stacks: refusing stack file with unexpected name: $(basename "$file")" >&2
    exit 1
  fi
  [[ "$name" == "shared" ]] && continue
  tenants+=("$name")
done

if ((${#tenants[@]} > 0)); then
  mapfile -t tenants < <(printf '%s\n' "${tenants[@]}" | LC_ALL=C sort)
fi

# pulumi/actions finds its previous PR comment for a stack by a heading that ends with the stack
# name (startsWith), so the preview of `acme` can overwrite the comment of `acme-eu`.
all=(shared "${tenants[@]}")
for a in "${all[@]}"; do
  for b in "${all[@]}"; do
    if [[ "$a" != "$b" && "$b" == "$a"* ]]; then
      echo "::warning::stack name '$a' is a prefix of '$b': their preview comments can overwrite each other (docs/ci.md)" >&2
    fi
  done
done

json_array() {
  local out="[" sep="" item
  for item in "$@"; do
    out+="${sep}\"${item}\""
    sep=","
  done
  printf '%s]' "$out"
}

printf 'stacks=%s\n' "$(json_array shared "${tenants[@]}")"
printf 'tenants=%s\n' "$(json_array "${tenants[@]}")"
