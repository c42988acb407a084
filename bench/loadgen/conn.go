package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// endpoint is where every connection goes and the one request it sends, serialised once.
//
// Not net/http's Transport: it spends two goroutines and several channel hand-offs on every
// request, which at 5000 rps cost 1.3-1.7x the Node generator's CPU on the core the mock provider
// shares (bringing the harness's own ceiling closer); this costs 0.7-1.0x. One goroutine owns one
// connection, writes the request's bytes and reads the answer with net/http's own parser.
type endpoint struct {
	// dial is the address connected to: the origin's, or the forward proxy's.
	dial string
	// tunnel is the origin (host:port) a CONNECT asks the forward proxy for; empty without a proxy.
	tunnel  string
	tls     *tls.Config
	request []byte
	timeout time.Duration
}

func newEndpoint(cfg Config) (*endpoint, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url: scheme %q is neither http nor https", u.Scheme)
	}
	ep := &endpoint{dial: hostPort(u), timeout: time.Duration(cfg.TimeoutMs * float64(time.Millisecond))}
	if u.Scheme == "https" {
		ep.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}
		if cfg.CA != "" {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM([]byte(cfg.CA)) {
				return nil, errors.New("no certificate in ca")
			}
			ep.tls.RootCAs = pool
		}
	}
	if cfg.Proxy != "" {
		proxy, err := url.Parse(cfg.Proxy)
		if err != nil || proxy.Host == "" {
			return nil, fmt.Errorf("proxy %q is not a URL", cfg.Proxy)
		}
		ep.tunnel, ep.dial = ep.dial, hostPort(proxy)
	}
	ep.request = serialise(cfg.Method, u, cfg.Headers, cfg.Body)
	return ep, nil
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// serialise writes the HTTP/1.1 request once, headers in a stable order.
func serialise(method string, u *url.URL, headers map[string]string, body string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, u.RequestURI(), u.Host)
	keys := make([]string, 0, len(headers))
	for k := range headers {
		if c := http.CanonicalHeaderKey(k); c != "Host" && c != "Content-Length" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\r\n", k, headers[k])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.Bytes()
}

// conn is one keep-alive connection, opened on first use and again after an error or a
// `Connection: close`.
type conn struct {
	ep *endpoint
	c  net.Conn
	r  *bufio.Reader
}

func (k *conn) open() error {
	c, err := net.DialTimeout("tcp", k.ep.dial, k.ep.timeout)
	if err != nil {
		return err
	}
	_ = c.SetDeadline(time.Now().Add(k.ep.timeout))
	if k.ep.tunnel != "" {
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", k.ep.tunnel, k.ep.tunnel)
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
		if err != nil {
			c.Close()
			return fmt.Errorf("CONNECT %s: %w", k.ep.tunnel, err)
		}
		if resp.StatusCode != http.StatusOK {
			c.Close()
			return fmt.Errorf("CONNECT %s: status %d", k.ep.tunnel, resp.StatusCode)
		}
	}
	if k.ep.tls != nil {
		t := tls.Client(c, k.ep.tls)
		if err := t.Handshake(); err != nil {
			c.Close()
			return err
		}
		c = t
	}
	k.c, k.r = c, bufio.NewReaderSize(c, 16<<10)
	return nil
}

func (k *conn) close() {
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}

// roundTrip sends the request and reads the whole answer; an answer other than 200 is an error.
func (k *conn) roundTrip() error {
	if k.c == nil {
		if err := k.open(); err != nil {
			return err
		}
	}
	_ = k.c.SetDeadline(time.Now().Add(k.ep.timeout))
	if _, err := k.c.Write(k.ep.request); err != nil {
		k.close()
		return err
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		k.close()
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		k.close()
	}
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
