package main

import (
	"net/url"
	"testing"
	"time"
)

func TestSerialise(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     string
		headers map[string]string
		body    string
		want    string
	}{
		{
			name:    "headers sorted, Host and Content-Length written once by the generator",
			url:     "http://127.0.0.1:8080/openai/v1/chat/completions?x=1",
			headers: map[string]string{"content-type": "application/json", "authorization": "Bearer a", "host": "other", "Content-Length": "9"},
			body:    `{"a":1}`,
			want: "POST /openai/v1/chat/completions?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" +
				"authorization: Bearer a\r\ncontent-type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
		},
		{
			name: "no headers, no body",
			url:  "https://localhost/",
			want: "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := url.Parse(tc.url)
			if got := string(serialise("POST", u, tc.headers, tc.body)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name, url, proxy string
		dial, tunnel     string
		tls              bool
		wantErr          bool
	}{
		{name: "https origin, default port", url: "https://localhost/v1", dial: "localhost:443", tls: true},
		{name: "http origin", url: "http://127.0.0.1:9000/v1", dial: "127.0.0.1:9000"},
		{name: "CONNECT through a proxy", url: "https://localhost:8443/v1", proxy: "http://127.0.0.1:4750", dial: "127.0.0.1:4750", tunnel: "localhost:8443", tls: true},
		{name: "not http", url: "ftp://localhost/", wantErr: true},
		{name: "proxy not a URL", url: "https://localhost/", proxy: "127.0.0.1", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep, err := newEndpoint(Config{URL: tc.url, Proxy: tc.proxy, Method: "POST", TimeoutMs: 1000})
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep.dial != tc.dial || ep.tunnel != tc.tunnel || (ep.tls != nil) != tc.tls || ep.timeout != time.Second {
				t.Errorf("got dial %q tunnel %q tls %v timeout %v", ep.dial, ep.tunnel, ep.tls != nil, ep.timeout)
			}
		})
	}
}

func TestSummarise(t *testing.T) {
	res := summarise([]int64{300, -1, 500, 400}, []int64{30, 10, 20, 40}, "status 503", 1500*time.Millisecond)
	if res.Requests != 4 || res.Errors != 1 || res.FirstError != "status 503" || res.ElapsedMs != 1500 {
		t.Errorf("got %+v", res)
	}
	if len(res.LatencyUs) != 3 || res.LatencyUs[0] != 300 || res.LatencyUs[2] != 400 {
		t.Errorf("latencies %v: the answered ones, in schedule order", res.LatencyUs)
	}
	if res.SendLateUs != [3]int64{20, 40, 40} {
		t.Errorf("send lateness p50/p99/max %v", res.SendLateUs)
	}
}
