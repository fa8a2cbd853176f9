// Package deps pins the Go modules that %%go cells may import.
//
// `make setup` builds this package once so the build cache is warm: a cell that
// imports gorilla/mux or gin then links in well under a second.
package deps

import (
	_ "github.com/gin-gonic/gin"
	_ "github.com/gorilla/mux"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "go.opentelemetry.io/otel"
	_ "go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	_ "go.opentelemetry.io/otel/propagation"
	_ "go.opentelemetry.io/otel/sdk/resource"
	_ "go.opentelemetry.io/otel/sdk/trace"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/time/rate"
)
