#!/usr/bin/env bash
# check-lambda-binary.sh <binary>: fails (exit 1, with the reason) unless
# <binary> can run on Lambda's provided.al2023 as a plain executable:
#   - NEEDED only libc.so.6, libm.so.6, libgcc_s.so.1 and the loader
#     (everything else, libstdc++ included, must be linked in);
#   - no glibc symbol version newer than GLIBC_2.34 (Amazon Linux 2023's
#     glibc), since the loader refuses a binary needing a newer one;
#   - no libgcc_s symbol version newer than GCC_7.0.0 (the newest that
#     Amazon Linux 2023's GCC 11 libgcc_s defines);
#   - no GLIBCXX_/CXXABI_ version at all (that would mean a shared libstdc++).
# Prints the NEEDED list and the highest versions when it passes.
set -euo pipefail

max_glibc=2.34
max_gcc=7.0.0
allowed_needed=(libc.so.6 libm.so.6 libgcc_s.so.1 ld-linux-x86-64.so.2)

binary=${1:?usage: check-lambda-binary.sh <binary>}
[ -f "$binary" ] || { echo "check-lambda-binary: $binary: no such file" >&2; exit 2; }
for tool in objdump readelf; do
  command -v "$tool" > /dev/null || { echo "check-lambda-binary: $tool not found (binutils)" >&2; exit 2; }
done

fail=0
problem() {
  echo "check-lambda-binary: FAIL: $*" >&2
  fail=1
}

# x <= y for dotted versions.
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]; }

if ! readelf -h "$binary" 2>/dev/null | grep -q 'Machine:.*X86-64'; then
  echo "check-lambda-binary: FAIL: $binary is not an x86-64 ELF file" >&2
  exit 1
fi

needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $needed; do
  ok=0
  for allowed in "${allowed_needed[@]}"; do [ "$lib" = "$allowed" ] && ok=1; done
  [ $ok -eq 1 ] || problem "needs shared library $lib; only ${allowed_needed[*]} exist on provided.al2023 (link it statically)"
done

# objdump -T prints each dynamic symbol's version as (GLIBC_2.34) when it
# is imported and as GLIBC_2.34 (no parentheses) for hidden ones.
dynsyms=$(objdump -T "$binary") || problem "objdump -T cannot read the dynamic symbols of $binary"
highest_glibc=0
highest_gcc=0
libstdcxx_symbols=0
while read -r name version; do
  [ -n "$name" ] || continue
  case "$version" in
    GLIBC_PRIVATE) problem "$name uses GLIBC_PRIVATE" ;;
    GLIBC_[0-9]*)
      v=${version#GLIBC_}
      version_le "$v" "$highest_glibc" || highest_glibc=$v
      if ! version_le "$v" "$max_glibc"; then
        remedy="define it in src/app/glibc_compat.cpp or avoid it"
        # A static libgcc's unwinder calls it; the shared libgcc_s does not.
        [ "$name" = _dl_find_object ] && remedy="link libgcc_s dynamically (no -static-libgcc)"
        problem "$name needs $version, newer than GLIBC_$max_glibc (Amazon Linux 2023); $remedy"
      fi ;;
    GCC_[0-9]*)
      v=${version#GCC_}
      version_le "$v" "$highest_gcc" || highest_gcc=$v
      version_le "$v" "$max_gcc" || problem "$name needs libgcc_s $version, newer than GCC_$max_gcc" ;;
    GLIBCXX_* | CXXABI_*) libstdcxx_symbols=$((libstdcxx_symbols + 1)) ;;
  esac
done < <(printf '%s\n' "$dynsyms" | awk '{
    for (i = 1; i <= NF; i++) if ($i ~ /^\(?(GLIBC|GCC|GLIBCXX|CXXABI)_[A-Z0-9.]+\)?$/) {
      v = $i; gsub(/[()]/, "", v); print $NF, v
    }
  }')

[ $libstdcxx_symbols -eq 0 ] ||
  problem "$libstdcxx_symbols symbols from a shared libstdc++ (GLIBCXX_/CXXABI_ versions): link it statically (-static-libstdc++)"

if [ $fail -ne 0 ]; then
  echo "check-lambda-binary: $binary cannot run on provided.al2023 (see DESIGN.md, the Lambda artifact)" >&2
  exit 1
fi
echo "check-lambda-binary: ok: NEEDED $(echo $needed | tr ' ' ','); highest GLIBC_$highest_glibc, GCC_$highest_gcc"
