// A naive gin version of the Backend Patterns Lab service: every route of the
// contract (docs/service-contract.md) works on a happy path, and nothing more.
//
// Your task (see README.md): make it production-ready until `course check .`
// passes all 11 items. Nothing here is production-grade on purpose: gin.Default()'s
// text logger and empty-500 recovery, no validation, a new database connection per
// request, no security headers, CORS, rate limit, compression, metrics, or
// graceful shutdown, and a readiness probe that never looks at the database.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
)

type User struct {
	ID    int64   `json:"id"`
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

type NewUser struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

var databaseURL = os.Getenv("DATABASE_URL")

// connect opens a brand-new connection for every request. (Hint: this is slow and
// unbounded: how many connections does a traffic spike open?)
func connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, databaseURL)
}

func listUsers(c *gin.Context) {
	conn, err := connect(c)
	if err != nil {
		panic(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(c, "SELECT id, name, email FROM users ORDER BY id")
	if err != nil {
		panic(err)
	}
	defer rows.Close()
	users := []User{}
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Name, &u.Email); err != nil {
			panic(err)
		}
		users = append(users, u)
	}
	c.JSON(200, users)
}

func getUser(c *gin.Context) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil {
		c.String(400, "bad id")
		return
	}
	conn, err := connect(c)
	if err != nil {
		panic(err)
	}
	defer conn.Close(context.Background())
	var u User
	err = conn.QueryRow(c, "SELECT id, name, email FROM users WHERE id = $1", id).Scan(&u.ID, &u.Name, &u.Email)
	if err == pgx.ErrNoRows {
		c.String(404, "not found")
		return
	}
	if err != nil {
		panic(err)
	}
	c.JSON(200, u)
}

func createUser(c *gin.Context) {
	var in NewUser
	if err := c.BindJSON(&in); err != nil {
		return // BindJSON has already answered 400 (with an empty body)
	}
	conn, err := connect(c)
	if err != nil {
		panic(err)
	}
	defer conn.Close(context.Background())
	var u User
	err = conn.QueryRow(c, "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email",
		in.Name, in.Email).Scan(&u.ID, &u.Name, &u.Email)
	if err != nil {
		panic(err)
	}
	c.JSON(201, u)
}

func slow(c *gin.Context) {
	ms, _ := strconv.Atoi(c.DefaultQuery("ms", "100"))
	time.Sleep(time.Duration(ms) * time.Millisecond)
	c.JSON(200, gin.H{"slept_ms": ms})
}

func slowQuery(c *gin.Context) {
	ms, _ := strconv.Atoi(c.DefaultQuery("ms", "100"))
	conn, err := connect(c)
	if err != nil {
		panic(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(c, "SELECT pg_sleep($1::float8 / 1000.0)", ms); err != nil {
		panic(err)
	}
	c.JSON(200, gin.H{"slept_ms": ms})
}

func main() {
	r := gin.Default()

	r.GET("/health", func(c *gin.Context) { c.JSON(200, gin.H{"status": "ok"}) })
	r.GET("/health/ready", func(c *gin.Context) { c.JSON(200, gin.H{"status": "ok"}) }) // TODO: ask the database

	r.GET("/api/users", listUsers)
	r.GET("/api/users/:id", getUser)
	r.POST("/api/users", createUser)
	r.GET("/api/slow", slow)
	r.GET("/api/slow-query", slowQuery)
	r.GET("/api/boom", func(c *gin.Context) { panic("boom: an unexpected failure") })

	host := os.Getenv("HOST")
	if host == "" {
		host = "127.0.0.1"
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	fmt.Println("listening on", net.JoinHostPort(host, port))
	if err := r.Run(net.JoinHostPort(host, port)); err != nil {
		panic(err)
	}
}
