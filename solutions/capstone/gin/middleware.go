package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

const requestIDKey = "request_id"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// requestID propagates a well-formed incoming X-Request-Id or makes one, so the access
// line, the panic line and the client's view of a request can be tied together.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !validRequestID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

// securityHeaders sets helmet-style defaults before anything else runs, so 404s, 429s,
// preflights and recovered panics carry them too. This is a JSON API: the CSP forbids
// everything, including being framed. Go's net/http sends no Server or X-Powered-By.
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("X-XSS-Protection", "0") // the legacy XSS auditor caused leaks: disable it
		if c.Request.TLS != nil {      // HSTS means something only over HTTPS (RFC 6797)
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		c.Next()
	}
}

// accessLog writes one JSON line per request: method, path, route, status, duration.
// Headers are never logged (Authorization, cookies); 5xx at error level, 4xx at warn.
func accessLog(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path), // no query string: it may carry tokens
			slog.String("route", c.FullPath()),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int("bytes", c.Writer.Size()),
			slog.String("client_ip", c.ClientIP()),
			slog.String("request_id", c.GetString(requestIDKey)),
		}
		if errs := c.Errors.ByType(gin.ErrorTypeAny); len(errs) > 0 {
			attrs = append(attrs, slog.String("error", errs.String()))
		}
		logger.LogAttrs(c.Request.Context(), level, "request completed", attrs...)
	}
}

// recovery turns a panic into the 500 envelope (never the stack) and logs the panic
// with its stack at error level. Unlike gin.Recovery it writes JSON, and its log line
// is a JSON line too.
func recovery(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler { //nolint:errorlint // net/http's sentinel: let it abort
				panic(rec)
			}
			if err, ok := rec.(error); ok && brokenConnection(err) {
				logger.Warn("client connection lost", "err", err, "path", c.Request.URL.Path)
				c.Abort()
				return
			}
			logger.LogAttrs(c.Request.Context(), slog.LevelError, "panic recovered",
				slog.String("panic", fmt.Sprint(rec)),
				slog.String("method", c.Request.Method),
				slog.String("path", c.Request.URL.Path),
				slog.String("request_id", c.GetString(requestIDKey)),
				slog.String("stack", string(debug.Stack())),
			)
			if c.Writer.Written() {
				c.Abort() // too late for a clean answer; the access line still records it
				return
			}
			abortWithError(c, http.StatusInternalServerError, CodeInternal, "Internal server error", nil)
		}()
		c.Next()
	}
}

func brokenConnection(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET))
}

// cors answers preflights and tags responses for the exact origins in CORS_ORIGINS
// only; other origins get no Access-Control-* header (the browser then blocks them).
// Credentials are not allowed, so an allowed origin is echoed, never "*". Vary is
// added to (not replaced), so it survives next to the gzip layer's Accept-Encoding.
func cors(origins []string) gin.HandlerFunc {
	allowed := make(map[string]struct{}, len(origins))
	for _, o := range origins {
		allowed[o] = struct{}{}
	}
	const (
		allowMethods  = "GET, HEAD, POST, PUT, PATCH, DELETE"
		allowHeaders  = "Content-Type, Authorization, X-Request-Id"
		exposeHeaders = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id"
	)
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		origin := c.GetHeader("Origin")
		if origin == "" {
			c.Next()
			return
		}
		_, ok := allowed[origin]
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if ok {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", allowMethods)
				h.Set("Access-Control-Allow-Headers", allowHeaders)
				h.Set("Access-Control-Max-Age", "600")
			}
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", exposeHeaders)
		}
		c.Next()
	}
}

// ipLimiter is a token bucket per client IP (golang.org/x/time/rate): a burst of
// RATE_LIMIT_MAX, refilled at RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS.
type ipLimiter struct {
	mu       sync.Mutex
	visitors map[string]*visitor
	every    rate.Limit
	burst    int
	ttl      time.Duration
}

type visitor struct {
	limiter  *rate.Limiter
	lastSeen time.Time
}

func newIPLimiter(ctx context.Context, max int, window time.Duration) *ipLimiter {
	l := &ipLimiter{
		visitors: make(map[string]*visitor),
		every:    rate.Every(window / time.Duration(max)),
		burst:    max,
		ttl:      window + time.Minute, // a full bucket again by then: safe to forget
	}
	go l.evictLoop(ctx)
	return l
}

func (l *ipLimiter) get(ip string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.visitors[ip]
	if !ok {
		v = &visitor{limiter: rate.NewLimiter(l.every, l.burst)}
		l.visitors[ip] = v
	}
	v.lastSeen = now
	return v.limiter
}

// evictLoop forgets idle clients so the map cannot grow without bound.
func (l *ipLimiter) evictLoop(ctx context.Context) {
	ticker := time.NewTicker(time.Minute)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			l.mu.Lock()
			for ip, v := range l.visitors {
				if now.Sub(v.lastSeen) > l.ttl {
					delete(l.visitors, ip)
				}
			}
			l.mu.Unlock()
		}
	}
}

// middleware keys on c.RemoteIP(), the socket's peer address: with
// SetTrustedProxies(nil) a client cannot buy a fresh quota by sending X-Forwarded-For.
// Behind a real proxy, list it in SetTrustedProxies and key on c.ClientIP() instead.
func (l *ipLimiter) middleware() gin.HandlerFunc {
	limit := strconv.Itoa(l.burst)
	return func(c *gin.Context) {
		now := time.Now()
		lim := l.get(c.RemoteIP(), now)
		r := lim.ReserveN(now, 1)
		if delay := r.DelayFrom(now); delay > 0 {
			r.CancelAt(now) // a refused request must not consume a future token
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(delay.Seconds()))))
			c.Header("X-RateLimit-Limit", limit)
			c.Header("X-RateLimit-Remaining", "0")
			abortWithError(c, http.StatusTooManyRequests, CodeRateLimited,
				"Too many requests: slow down and retry after the Retry-After delay", nil)
			return
		}
		c.Header("X-RateLimit-Limit", limit)
		c.Header("X-RateLimit-Remaining", strconv.Itoa(int(math.Max(0, math.Floor(lim.TokensAt(now))))))
		c.Next()
	}
}
