// Command loadgen is make bench's fixed-rate load generator: requests at a constant arrival rate
// (open loop) over at most N keep-alive connections, each timed from the moment it was due to its
// last response byte, so a target that falls behind shows its queue in the tail instead of
// hiding it: due requests wait in one queue for the first free connection, each connection owned
// by one goroutine (conn.go). Native and garbage-free during a run, unlike a Node generator
// sharing CPU 0 with the mock provider, whose timer and GC stalls were in every latency.
//
// Reads one JSON request (Config) on stdin, writes one JSON result (Result) on stdout:
//
//	echo '{"url":"https://localhost:8443/v1/chat/completions","ca":"...","body":"{}","rate":1000,"durationMs":3000}' | loadgen
//
// A forward proxy ("proxy") carries every connection in a CONNECT tunnel, whatever the host
// (Go's HTTPS_PROXY handling skips localhost, which is where make bench's mock provider is).
// Standard library only; Linux (nanosleep keeps the schedule within microseconds where Go's
// timers wake up to a millisecond late).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Config is the request read on stdin.
type Config struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	// CA is the PEM the origin's certificate is checked against (https origins).
	CA string `json:"ca"`
	// Proxy is a forward proxy (http://host:port): every connection is a CONNECT tunnel to URL's origin.
	Proxy       string  `json:"proxy"`
	Connections int     `json:"connections"`
	Rate        float64 `json:"rate"`
	DurationMs  float64 `json:"durationMs"`
	// Warmup is how many requests each connection sends once open, before the schedule starts
	// (untimed): a fresh process must not time its TLS handshakes.
	Warmup    *int    `json:"warmup"`
	TimeoutMs float64 `json:"timeoutMs"`
}

// Result is written on stdout.
type Result struct {
	// Requests is how many were scheduled (rate × duration); every one completed or failed.
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// FirstError says why the first failed request failed.
	FirstError string `json:"firstError,omitempty"`
	// ElapsedMs runs from the first request's due time to the last completion.
	ElapsedMs float64 `json:"elapsedMs"`
	// LatencyUs holds each successful request's time from due to last byte, in schedule order.
	LatencyUs []int64 `json:"latencyUs"`
	// SendLateUs is how late the generator itself sent requests (p50, p99, max): its own jitter.
	SendLateUs [3]int64 `json:"sendLateUs"`
}

func main() {
	cfg, err := readConfig(os.Stdin)
	if err != nil {
		fail(err)
	}
	// The pacer sleeps in the kernel on its own thread; a second P keeps the requests running meanwhile.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	// No garbage collection during a run (its cycles showed as a slow request ~2 s into every
	// 1000 rps run): the heap grows by a few kB a request, and only a run past 1 GiB collects.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(1 << 30)
	ep, err := newEndpoint(cfg)
	if err != nil {
		fail(err)
	}
	conns := make([]*conn, cfg.Connections)
	for i := range conns {
		conns[i] = &conn{ep: ep}
	}
	warmUp(conns, *cfg.Warmup)
	res := run(conns, cfg)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
	os.Exit(2)
}

func readConfig(r io.Reader) (Config, error) {
	var cfg Config
	if err := json.NewDecoder(r).Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("reading the JSON config on stdin: %w", err)
	}
	if cfg.URL == "" || cfg.Rate <= 0 || cfg.DurationMs <= 0 {
		return cfg, errors.New("url, rate > 0 and durationMs > 0 are required")
	}
	if cfg.Method == "" {
		cfg.Method = http.MethodPost
	}
	if cfg.Connections <= 0 {
		cfg.Connections = 16
	}
	if cfg.Warmup == nil {
		two := 2
		cfg.Warmup = &two
	}
	if cfg.TimeoutMs <= 0 {
		cfg.TimeoutMs = 30_000
	}
	return cfg, nil
}

// warmUp opens every connection and sends `rounds` requests on each, before the clock starts. Its
// failures are not reported: a target that fails fails the timed requests too, and is counted there.
func warmUp(conns []*conn, rounds int) {
	var wg sync.WaitGroup
	for _, k := range conns {
		wg.Go(func() {
			for range rounds {
				_ = k.roundTrip()
			}
		})
	}
	wg.Wait()
}

// run sends rate × duration requests, request i due at start + i/rate, and times each from its
// due time. Due requests wait in one queue for the first free connection, as in a client pool.
func run(conns []*conn, cfg Config) Result {
	total := max(1, int(cfg.Rate*cfg.DurationMs/1000+0.5))
	latency := make([]int64, total) // -1: failed
	late := make([]int64, 0, total)
	lastDone := make([]time.Time, len(conns))
	var (
		start      time.Time
		errMu      sync.Mutex
		firstError string
	)
	due := func(i int) time.Time { return start.Add(time.Duration(float64(i) * float64(time.Second) / cfg.Rate)) }
	queue := make(chan int, total)
	runtime.GC() // the warm-up's garbage, collected before the clock starts
	var wg sync.WaitGroup
	for w, k := range conns {
		wg.Go(func() {
			for i := range queue {
				err := k.roundTrip()
				done := time.Now()
				lastDone[w] = done
				if err == nil {
					latency[i] = done.Sub(due(i)).Microseconds()
					continue
				}
				latency[i] = -1
				errMu.Lock()
				if firstError == "" {
					firstError = err.Error()
				}
				errMu.Unlock()
			}
			k.close()
		})
	}
	// The pacer: one thread sleeps in nanosleep (microseconds late) and queues every request due by then.
	pacerDone := make(chan struct{})
	go func() {
		defer close(pacerDone)
		runtime.LockOSThread()
		setTimerSlack()
		// The schedule starts once this thread runs: its creation is not a late first request.
		start = time.Now().Add(2 * time.Millisecond)
		for i := 0; i < total; {
			sleepUntil(due(i))
			now := time.Now()
			for ; i < total && !due(i).After(now); i++ {
				late = append(late, now.Sub(due(i)).Microseconds())
				queue <- i
			}
		}
		close(queue)
	}()
	<-pacerDone
	wg.Wait()
	return summarise(latency, late, firstError, slices.MaxFunc(lastDone, time.Time.Compare).Sub(start))
}

func summarise(latency, late []int64, firstError string, elapsed time.Duration) Result {
	res := Result{Requests: len(latency), FirstError: firstError, LatencyUs: make([]int64, 0, len(latency))}
	for _, l := range latency {
		if l < 0 {
			res.Errors++
		} else {
			res.LatencyUs = append(res.LatencyUs, l)
		}
	}
	res.ElapsedMs = float64(elapsed.Microseconds()) / 1000
	slices.Sort(late)
	if n := len(late); n > 0 {
		res.SendLateUs = [3]int64{late[(n-1)/2], late[min(n-1, (n*99+99)/100-1)], late[n-1]}
	}
	return res
}

// setTimerSlack asks the kernel to wake this thread's sleeps 1 ns late at most (50 µs by default).
func setTimerSlack() {
	const prSetTimerslack = 29
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0)
}

// sleepUntil sleeps in the kernel (microseconds late), not on Go's timers (up to 1 ms late).
func sleepUntil(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(d.Nanoseconds())
		_ = syscall.Nanosleep(&ts, nil) // EINTR (the runtime's signals): the loop sleeps again
	}
}
