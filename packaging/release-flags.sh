# The build flags of the binary the package ships, sourced by build-deb.sh and by the
# benchmarks that must measure that binary (Tests/Bench/compare-seed.sh).
#  - the Swift runtime linked in (--static-swift-stdlib): the binary needs only Debian's libraries;
#  - lld with full RELRO and immediate binding, as Debian's hardening flags ask (swiftlang
#    6.0.3 links with gold by default, which leaves no read-only relocation segment);
#  - relative relocations packed (DT_RELR, glibc >= 2.36: Debian 12 on): 79 000 of them
#    otherwise fill 1.9 MB that the loader reads at every start (1.2 MiB less resident).
release_flags=(-c release --static-swift-stdlib
               -Xswiftc -use-ld=lld -Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now
               -Xlinker -z -Xlinker pack-relative-relocs)
