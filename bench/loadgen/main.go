// Command loadgen is make bench's fixed-rate load generator: requests at a constant arrival rate
// (open loop) over at most N keep-alive connections, each timed from the moment it was due to its
// last response byte, so a target that falls behind shows its queue in the tail instead of
// hiding it. Native and garbage-light, unlike a Node generator sharing CPU 0 with the mock
// provider, whose timer and GC stalls were the A/A control's tens of milliseconds at 1000 rps.
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
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	// Warmup is how many rounds of `connections` concurrent requests open the connections before
	// the schedule starts (untimed): a fresh process must not time its TLS handshakes.
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
	client, err := newClient(cfg)
	if err != nil {
		fail(err)
	}
	req, err := newRequestFactory(cfg)
	if err != nil {
		fail(err)
	}
	warmUp(client, req, cfg.Connections, *cfg.Warmup)
	res := run(client, req, cfg)
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

// newClient: HTTP/1.1 only, at most cfg.Connections connections, all kept alive.
func newClient(cfg Config) (*http.Client, error) {
	tlsConfig := &tls.Config{}
	if cfg.CA != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(cfg.CA)) {
			return nil, errors.New("no certificate in ca")
		}
		tlsConfig.RootCAs = pool
	}
	transport := &http.Transport{
		TLSClientConfig:     tlsConfig,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // no HTTP/2
		MaxConnsPerHost:     cfg.Connections,
		MaxIdleConnsPerHost: cfg.Connections,
		MaxIdleConns:        cfg.Connections,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	if cfg.Proxy != "" {
		proxy, err := url.Parse(cfg.Proxy)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		// http.ProxyURL, unlike ProxyFromEnvironment, also tunnels to loopback hosts.
		transport.Proxy = http.ProxyURL(proxy)
	}
	return &http.Client{Transport: transport, Timeout: time.Duration(cfg.TimeoutMs * float64(time.Millisecond))}, nil
}

type requestFactory func() *http.Request

func newRequestFactory(cfg Config) (requestFactory, error) {
	if _, err := http.NewRequest(cfg.Method, cfg.URL, nil); err != nil {
		return nil, err
	}
	body := []byte(cfg.Body)
	header := http.Header{}
	for k, v := range cfg.Headers {
		header.Set(k, v)
	}
	return func() *http.Request {
		r, _ := http.NewRequest(cfg.Method, cfg.URL, bytes.NewReader(body))
		r.Header = header.Clone()
		return r
	}, nil
}

// call sends one request and reads the whole answer; an answer other than 200 is an error.
func call(client *http.Client, req requestFactory) error {
	resp, err := client.Do(req())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// warmUp opens every connection (rounds × connections requests, connections at a time). Its
// failures are not reported: a target that fails fails the timed requests too, and is counted there.
func warmUp(client *http.Client, req requestFactory, connections, rounds int) {
	for range rounds {
		var wg sync.WaitGroup
		for range connections {
			wg.Go(func() { _ = call(client, req) })
		}
		wg.Wait()
	}
}

// run sends rate × duration requests, request i due at start + i/rate, and times each from its due time.
func run(client *http.Client, req requestFactory, cfg Config) Result {
	total := max(1, int(cfg.Rate*cfg.DurationMs/1000+0.5))
	latency := make([]int64, total) // -1: failed
	late := make([]int64, 0, total)
	var (
		wg         sync.WaitGroup
		errMu      sync.Mutex
		firstError string
		lastDone   time.Time
	)
	var start time.Time
	due := func(i int) time.Time { return start.Add(time.Duration(float64(i) * float64(time.Second) / cfg.Rate)) }
	pacerDone := make(chan struct{})
	runtime.GC() // the warm-up's garbage, collected before the clock starts
	go func() {
		// One thread sleeps in nanosleep (microseconds late) and sends every request due by then.
		runtime.LockOSThread()
		setTimerSlack()
		defer close(pacerDone)
		// The schedule starts once this thread runs: its creation is not a late first request.
		start = time.Now().Add(2 * time.Millisecond)
		for i := 0; i < total; {
			sleepUntil(due(i))
			now := time.Now()
			for ; i < total && !due(i).After(now); i++ {
				at := due(i)
				late = append(late, now.Sub(at).Microseconds())
				wg.Add(1)
				go func(i int, at time.Time) {
					defer wg.Done()
					err := call(client, req)
					done := time.Now()
					if err != nil {
						latency[i] = -1
						errMu.Lock()
						if firstError == "" {
							firstError = err.Error()
						}
						errMu.Unlock()
					} else {
						latency[i] = done.Sub(at).Microseconds()
					}
					errMu.Lock()
					if done.After(lastDone) {
						lastDone = done
					}
					errMu.Unlock()
				}(i, at)
			}
		}
	}()
	<-pacerDone
	wg.Wait()
	return summarise(latency, late, firstError, lastDone.Sub(start))
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
