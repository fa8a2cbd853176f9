// Command app is the capstone service of Backend Patterns Lab written with gin:
// the contract in docs/service-contract.md, built production-ready.
//
// Layout: main.go (configuration, wiring, start and graceful stop), middleware.go
// (security headers, access log, recovery, CORS, rate limit), metrics.go
// (Prometheus), errors.go (the JSON error envelope), handlers.go (routes and the
// users store).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klauspost/compress/gzhttp"
)

// Config is everything the service reads from its environment (the contract's variables).
type Config struct {
	Host            string
	Port            int
	DatabaseURL     string
	PoolMax         int32
	CORSOrigins     []string
	RateLimitMax    int
	RateLimitWindow time.Duration
	LogLevel        slog.Level
	ShutdownTimeout time.Duration // below Kubernetes' 30 s grace period
	ReadyTimeout    time.Duration // readiness answers within a probe's 1 s timeout
}

func loadConfig() (Config, error) {
	cfg := Config{
		Host:            envOr("HOST", "127.0.0.1"),
		DatabaseURL:     os.Getenv("DATABASE_URL"),
		CORSOrigins:     splitList(os.Getenv("CORS_ORIGINS")),
		ShutdownTimeout: 8 * time.Second,
		ReadyTimeout:    750 * time.Millisecond,
	}
	var err error
	if cfg.Port, err = intEnv("PORT", 8080); err != nil {
		return cfg, err
	}
	poolMax, err := intEnv("DB_POOL_MAX", 4)
	if err != nil {
		return cfg, err
	}
	if poolMax < 1 {
		return cfg, errors.New("DB_POOL_MAX must be at least 1")
	}
	cfg.PoolMax = int32(poolMax)
	if cfg.RateLimitMax, err = intEnv("RATE_LIMIT_MAX", 100); err != nil {
		return cfg, err
	}
	windowMS, err := intEnv("RATE_LIMIT_WINDOW_MS", 60_000)
	if err != nil {
		return cfg, err
	}
	if cfg.RateLimitMax < 1 || windowMS < 1 {
		return cfg, errors.New("RATE_LIMIT_MAX and RATE_LIMIT_WINDOW_MS must be positive")
	}
	cfg.RateLimitWindow = time.Duration(windowMS) * time.Millisecond
	if err := cfg.LogLevel.UnmarshalText([]byte(envOr("LOG_LEVEL", "info"))); err != nil {
		return cfg, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	if cfg.DatabaseURL == "" {
		return cfg, errors.New("DATABASE_URL is required")
	}
	return cfg, nil
}

func envOr(name, fallback string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return fallback
}

func intEnv(name string, fallback int) (int, error) {
	raw := strings.TrimSpace(os.Getenv(name))
	if raw == "" {
		return fallback, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer, got %q", name, raw)
	}
	return v, nil
}

func splitList(raw string) []string {
	var out []string
	for _, part := range strings.Split(raw, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// newPool opens a bounded pgx pool: at most DB_POOL_MAX connections, reused.
// pgxpool connects lazily, so the service starts (and /health answers) even when
// the database is down; /health/ready reports it.
func newPool(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pc.MaxConns = cfg.PoolMax
	pc.MinConns = 0
	pc.MaxConnIdleTime = 5 * time.Minute
	pc.HealthCheckPeriod = 15 * time.Second
	pc.ConnConfig.ConnectTimeout = 3 * time.Second
	if _, ok := pc.ConnConfig.RuntimeParams["application_name"]; !ok {
		pc.ConnConfig.RuntimeParams["application_name"] = "capstone-gin"
	}
	return pgxpool.NewWithConfig(ctx, pc)
}

func main() {
	if err := run(); err != nil {
		slog.Error("fatal", "err", err)
		os.Exit(1)
	}
}

func run() error {
	// Structured JSON logs on stdout (time, level, msg); also the sink of the standard
	// library's log package, so nothing writes free text.
	cfg, cfgErr := loadConfig()
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(logger)
	if cfgErr != nil {
		return cfgErr
	}

	// SIGTERM (Kubernetes, docker stop, the checker) and SIGINT (Ctrl-C) start the drain.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	pool, err := newPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close() // after the server has drained: closes every database connection

	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	if err := pool.Ping(pingCtx); err != nil {
		logger.Warn("database not reachable at start-up; readiness will report it", "err", err)
	}
	cancel()

	gin.SetMode(gin.ReleaseMode)
	router, err := newRouter(ctx, cfg, logger, pool, newMetrics())
	if err != nil {
		return err
	}

	srv := &http.Server{
		Addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		// gzip (and Vary: Accept-Encoding) around the whole router: bodies of 1 KB
		// and more with a compressible type, honouring Accept-Encoding q-values.
		Handler:           gzhttp.GzipHandler(router),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      45 * time.Second, // /api/slow may take up to 30 s
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("listening", "addr", "http://"+ln.Addr().String(), "db_pool_max", cfg.PoolMax)

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	stop() // a second SIGTERM/SIGINT now kills the process the default way

	// Shutdown closes the listener at once (new connections are refused), closes
	// idle keep-alive connections and waits for in-flight requests to finish.
	logger.Info("shutdown signal received: draining in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("requests still running at the shutdown deadline; closing them", "err", err)
		_ = srv.Close()
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server error", "err", err)
	}
	pool.Close()
	logger.Info("database pool closed; bye")
	return nil
}
