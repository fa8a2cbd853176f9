package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"
)

// Error codes of the contract's envelope.
const (
	CodeNotFound           = "NOT_FOUND"
	CodeValidation         = "VALIDATION_ERROR"
	CodeBadRequest         = "BAD_REQUEST"
	CodeInternal           = "INTERNAL_ERROR"
	CodeRateLimited        = "RATE_LIMITED"
	CodeServiceUnavailable = "SERVICE_UNAVAILABLE"
	CodePayloadTooLarge    = "PAYLOAD_TOO_LARGE"
)

// ErrorBody is {"error": {"code", "message", "details"?}}: every error answer has it.
type ErrorBody struct {
	Error APIError `json:"error"`
}

type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

// FieldError is one entry of a VALIDATION_ERROR's details.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// abortWithError answers the envelope and stops the handler chain.
func abortWithError(c *gin.Context, status int, code, message string, details any) {
	c.AbortWithStatusJSON(status, ErrorBody{APIError{Code: code, Message: message, Details: details}})
}

// dbUnavailable reports whether err means "the database cannot be reached" (answer
// 503 and let the client retry) rather than a bug (500).
func dbUnavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception; 57P01-57P03: admin shutdown, crash, cannot connect now
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// dbError answers a database failure: 503 when the database is unreachable, else a
// 500 left to the recovery path's logging (the access line is at error level).
func dbError(c *gin.Context, err error) {
	if dbUnavailable(err) {
		c.Header("Retry-After", "1")
		_ = c.Error(err)
		abortWithError(c, http.StatusServiceUnavailable, CodeServiceUnavailable, "Database unavailable", nil)
		return
	}
	_ = c.Error(err)
	abortWithError(c, http.StatusInternalServerError, CodeInternal, "Internal server error", nil)
}

// codeFor is the contract's code for a 4xx the handlers answer themselves (one status, one code).
func codeFor(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return CodePayloadTooLarge
	}
	return CodeBadRequest
}
