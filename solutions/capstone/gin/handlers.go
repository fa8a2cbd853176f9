package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"
	"github.com/go-playground/validator/v10"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	maxBodyBytes = 64 << 10
	maxSleepMS   = 30_000
	dbTimeout    = 10 * time.Second // acquire + query; a full pool queues, it doesn't fail
)

// ---------------------------------------------------------------------------- store

// User is a row of the users table (name and email may be NULL in seeded data).
type User struct {
	ID    int64   `json:"id" db:"id"`
	Name  *string `json:"name" db:"name"`
	Email *string `json:"email" db:"email"`
}

var errNotFound = errors.New("not found")

// UserStore runs every query on the shared pool: a connection is borrowed for the
// query and returned, never opened per request.
type UserStore struct{ pool *pgxpool.Pool }

func (s *UserStore) List(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, name, email FROM users ORDER BY id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[User])
}

func (s *UserStore) Get(ctx context.Context, id int64) (User, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, name, email FROM users WHERE id = $1", id)
	if err != nil {
		return User{}, err
	}
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, errNotFound
	}
	return u, err
}

func (s *UserStore) Create(ctx context.Context, name, email string) (User, error) {
	rows, err := s.pool.Query(ctx,
		"INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email", name, email)
	if err != nil {
		return User{}, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
}

// ---------------------------------------------------------------------------- router

func newRouter(ctx context.Context, cfg Config, logger *slog.Logger, pool *pgxpool.Pool, m *metrics) (*gin.Engine, error) {
	r := gin.New() // not gin.Default(): its logger writes text and its recovery an empty 500
	// No proxy in front of this service is trusted: c.ClientIP() is the socket's peer and
	// X-Forwarded-For cannot be used to dodge the rate limit.
	if err := r.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	// Order matters: headers first (so every answer has them), then the access log
	// and metrics (they see the final status, 500s included), then recovery, then CORS.
	r.Use(securityHeaders(), requestID(), accessLog(logger), m.middleware(), recovery(logger),
		cors(cfg.CORSOrigins))
	r.NoRoute(func(c *gin.Context) {
		abortWithError(c, http.StatusNotFound, CodeNotFound,
			fmt.Sprintf("Route %s %s not found", c.Request.Method, c.Request.URL.Path), nil)
	})

	h := &handlers{users: &UserStore{pool}, pool: pool, readyTimeout: cfg.ReadyTimeout}

	// Probes and metrics: outside /api, so never rate limited.
	r.GET("/health", h.live)
	r.GET("/health/ready", h.ready)
	r.GET("/metrics", gin.WrapH(m.handler()))

	api := r.Group("/api", newIPLimiter(ctx, cfg.RateLimitMax, cfg.RateLimitWindow).middleware())
	api.GET("/users", h.listUsers)
	api.GET("/users/:id", h.getUser)
	api.POST("/users", h.createUser)
	api.GET("/slow", h.slow)
	api.GET("/slow-query", h.slowQuery)
	api.GET("/boom", h.boom)
	return r, nil
}

type handlers struct {
	users        *UserStore
	pool         *pgxpool.Pool
	readyTimeout time.Duration
}

// ---------------------------------------------------------------------------- health

// live is the liveness probe: the process answers; it never looks at the database,
// or Kubernetes would restart healthy pods during a database outage.
func (h *handlers) live(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// ready is the readiness probe: a pooled ping, bounded so it answers within a probe's 1 s.
func (h *handlers) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.readyTimeout)
	defer cancel()
	if err := h.pool.Ping(ctx); err != nil {
		_ = c.Error(err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": gin.H{"database": "unavailable"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": gin.H{"database": "ok"}})
}

// ---------------------------------------------------------------------------- users

func (h *handlers) listUsers(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), dbTimeout)
	defer cancel()
	users, err := h.users.List(ctx)
	if err != nil {
		dbError(c, err)
		return
	}
	c.JSON(http.StatusOK, users)
}

func (h *handlers) getUser(c *gin.Context) {
	raw := c.Param("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		abortWithError(c, http.StatusBadRequest, CodeBadRequest, "id must be an integer", nil)
		return
	}
	if err != nil || id < 1 || id > math.MaxInt32 { // an integer, but no row can have it
		abortWithError(c, http.StatusNotFound, CodeNotFound, fmt.Sprintf("User %s not found", raw), nil)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), dbTimeout)
	defer cancel()
	user, err := h.users.Get(ctx, id)
	if errors.Is(err, errNotFound) {
		abortWithError(c, http.StatusNotFound, CodeNotFound, fmt.Sprintf("User %d not found", id), nil)
		return
	}
	if err != nil {
		dbError(c, err)
		return
	}
	c.JSON(http.StatusOK, user)
}

// createUserRequest is validated by gin's binding tags (go-playground/validator).
type createUserRequest struct {
	Name  string `json:"name" binding:"required,max=100"`
	Email string `json:"email" binding:"required,email,max=254"`
}

func (h *handlers) createUser(c *gin.Context) {
	req, details, status, problem := bindCreateUser(c)
	if problem != "" { // a body too large (413), empty or not JSON (400)
		abortWithError(c, status, codeFor(status), problem, nil)
		return
	}
	if len(details) > 0 {
		abortWithError(c, http.StatusUnprocessableEntity, CodeValidation, "Request body is invalid", details)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), dbTimeout)
	defer cancel()
	user, err := h.users.Create(ctx, req.Name, req.Email)
	if err != nil {
		dbError(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("/api/users/%d", user.ID))
	c.JSON(http.StatusCreated, user)
}

// bindCreateUser decodes and validates the body. It returns every invalid field at
// once: a wrong JSON type (encoding/json keeps decoding the other fields) is reported
// next to the binding tags' failures. A body that is not a JSON object is a 400, one too large a 413.
func bindCreateUser(c *gin.Context) (createUserRequest, []FieldError, int, string) {
	var req createUserRequest
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	err := c.ShouldBindJSON(&req)
	if err == nil {
		return req, nil, 0, ""
	}
	var details []FieldError
	var typeErr *json.UnmarshalTypeError
	var verrs validator.ValidationErrors
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &verrs):
	case errors.As(err, &typeErr) && typeErr.Field != "" && !strings.Contains(typeErr.Field, "."):
		details = append(details, FieldError{typeErr.Field, fmt.Sprintf("%s must be a %s", typeErr.Field, jsonKind(typeErr.Type))})
		// The decoder filled the other fields: validate them too (one round trip).
		if vErr := binding.Validator.ValidateStruct(&req); vErr != nil {
			_ = errors.As(vErr, &verrs)
		}
	case errors.As(err, &tooBig):
		return req, nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body larger than %d bytes", maxBodyBytes)
	case errors.Is(err, io.EOF):
		return req, nil, http.StatusBadRequest, "Request body is required: a JSON object with name and email"
	default:
		return req, nil, http.StatusBadRequest, "Malformed JSON body: expected an object like {\"name\": \"...\", \"email\": \"...\"}"
	}
	for _, fe := range verrs {
		if len(details) > 0 && details[0].Field == fe.Field() {
			continue // already reported as a type error
		}
		details = append(details, FieldError{fe.Field(), fieldMessage(fe)})
	}
	return req, details, 0, ""
}

func fieldMessage(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return fe.Field() + " is required"
	case "email":
		return fe.Field() + " must be a valid email address"
	case "max":
		return fmt.Sprintf("%s must be at most %s characters", fe.Field(), fe.Param())
	default:
		return fmt.Sprintf("%s failed the %q rule", fe.Field(), fe.Tag())
	}
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	default:
		return "number"
	}
}

func init() {
	// Name fields in validation errors by their JSON name ("email", not "Email").
	if v, ok := binding.Validator.Engine().(*validator.Validate); ok {
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			name := strings.SplitN(f.Tag.Get("json"), ",", 2)[0]
			if name == "" || name == "-" {
				return f.Name
			}
			return name
		})
	}
}

// ---------------------------------------------------------------------------- demo routes

func parseMS(c *gin.Context) (int, bool) {
	raw := c.DefaultQuery("ms", "100")
	ms, err := strconv.Atoi(raw)
	if err != nil || ms < 0 || ms > maxSleepMS {
		abortWithError(c, http.StatusBadRequest, CodeBadRequest,
			fmt.Sprintf("ms must be an integer between 0 and %d", maxSleepMS), nil)
		return 0, false
	}
	return ms, true
}

// slow sleeps without touching the database (the graceful-shutdown drill).
func (h *handlers) slow(c *gin.Context) {
	ms, ok := parseMS(c)
	if !ok {
		return
	}
	timer := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer timer.Stop()
	select {
	case <-timer.C:
		c.JSON(http.StatusOK, gin.H{"slept_ms": ms})
	case <-c.Request.Context().Done(): // the client went away
		c.Abort()
	}
}

// slowQuery holds a pooled connection in pg_sleep (the pooling drill).
func (h *handlers) slowQuery(c *gin.Context) {
	ms, ok := parseMS(c)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), dbTimeout+time.Duration(ms)*time.Millisecond)
	defer cancel()
	if _, err := h.pool.Exec(ctx, "SELECT pg_sleep($1::float8 / 1000.0)", ms); err != nil {
		dbError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"slept_ms": ms})
}

// boom fails the way real bugs do: an unexpected panic, answered by recovery().
func (h *handlers) boom(c *gin.Context) {
	panic("boom: an unexpected failure")
}
