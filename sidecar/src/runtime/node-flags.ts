// The flags chaperone-proxy's Node runs with, wherever it is started: the image's ENTRYPOINT, the
// bundle's `#!` line (npx chaperone-proxy) and `make bench` all use these (tests hold them equal).
//
// --max-semi-space-size=8: under load V8 grows the young generation to tens of MB. After a burst, the
// first scavenges of that large young generation took 5-12 ms, and RSS stayed ~300 MB. Capped at 8 MB:
// RSS under a saturating closed loop 186-234 MB instead of 299-332, and the first 1000 rps round after
// a 4000 rps burst had a p99 of 1.2/2.6 ms instead of 3.7/3.5 ms. CPU per request was not measurably
// different (3 interleaved triples). 1 MB was too small: CPU per request rose in 6 of 8 pairs
// (docs/sidecar.md).
//
// --min-semi-space-size=8: the young generation is held at that size. V8 otherwise sizes it to the
// survival rate (4 MB with all guards at 1000 rps) and shrinks it when idle: a scavenge every 60-85
// requests, each promoting the in-flight requests' objects (20-40 KB). The old generation then
// reached its limit within seconds of traffic resuming after idle, and a mark-compact (1.5-6.7 ms
// pause) fell inside 3, 6 and 8 of make bench's 9 windows at 1000 rps in three runs. Held: none of
// 9, and 3x fewer scavenges. RSS +1 MB idle, +7-14 MB after 2000 requests (docs/sidecar.md).
//
// --no-memory-reducer-favors-memory: the collection V8's memory reducer runs ~100 s into an idle
// spell is an ordinary mark-compact instead of a reduce-memory one, which keeps no object shape
// without live objects: once traffic stops, that is every shape a request uses, and ~200 optimised
// functions of the request path were dropped at once. In make bench (two runs of one build, one
// without, one with), the redaction and all-guards rows then took 267-327 us a request arriving at
// 1000 rps instead of 367-420, and their added p99 there was 0.40 and 1.09 ms instead of 1.85 and
// 2.25. The cost: RSS after a burst and 150 s idle 119.9 MB instead of 108.8 (docs/sidecar.md).
export const SIDECAR_NODE_FLAGS = [
  '--max-semi-space-size=8',
  '--min-semi-space-size=8',
  '--no-memory-reducer-favors-memory',
] as const;
