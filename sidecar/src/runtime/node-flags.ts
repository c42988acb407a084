// The flags chaperone-proxy's Node runs with, wherever it is started: the image's ENTRYPOINT, the
// bundle's `#!` line (npx chaperone-proxy) and `make bench` all use these (tests hold them equal).
//
// --max-semi-space-size=8: under load V8 grows the young generation to tens of MB. After a burst, the
// first scavenges of that large young generation took 5-12 ms, and RSS stayed ~300 MB. Capped at 8 MB:
// RSS under a saturating closed loop 186-234 MB instead of 299-332, and the first 1000 rps round after
// a 4000 rps burst had a p99 of 1.2/2.6 ms instead of 3.7/3.5 ms. CPU per request was not measurably
// different (3 interleaved triples). 1 MB was too small: CPU per request rose in 6 of 8 pairs
// (docs/sidecar.md).
export const SIDECAR_NODE_FLAGS = ['--max-semi-space-size=8'] as const;
