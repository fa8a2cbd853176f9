package lab.backend.starter;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** All the routes in one controller, each doing its own JDBC. */
@RestController
public class ApiController {

    @GetMapping("/health")
    public Map<String, String> health() {
        return Map.of("status", "ok");
    }

    @GetMapping("/health/ready")
    public Map<String, String> ready() {
        return Map.of("status", "ok"); // TODO: is the database reachable?
    }

    @GetMapping("/api/users")
    public List<Map<String, Object>> listUsers() throws SQLException {
        try (Connection c = Db.connect();
             PreparedStatement st = c.prepareStatement("SELECT id, name, email FROM users ORDER BY id");
             ResultSet rs = st.executeQuery()) {
            List<Map<String, Object>> users = new ArrayList<>();
            while (rs.next()) {
                users.add(row(rs));
            }
            return users;
        }
    }

    @GetMapping("/api/users/{id}")
    public ResponseEntity<Object> getUser(@PathVariable int id) throws SQLException {
        try (Connection c = Db.connect();
             PreparedStatement st = c.prepareStatement("SELECT id, name, email FROM users WHERE id = ?")) {
            st.setInt(1, id);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    return ResponseEntity.status(HttpStatus.NOT_FOUND).body("not found");
                }
                return ResponseEntity.ok(row(rs));
            }
        }
    }

    @PostMapping("/api/users")
    public ResponseEntity<Map<String, Object>> createUser(@RequestBody Map<String, Object> body) throws SQLException {
        try (Connection c = Db.connect();
             PreparedStatement st = c.prepareStatement(
                     "INSERT INTO users (name, email) VALUES (?, ?) RETURNING id, name, email")) {
            st.setObject(1, body.get("name"));
            st.setObject(2, body.get("email"));
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return ResponseEntity.status(HttpStatus.CREATED).body(row(rs));
            }
        }
    }

    @GetMapping("/api/slow")
    public Map<String, Integer> slow(@RequestParam(defaultValue = "100") int ms) throws InterruptedException {
        Thread.sleep(ms);
        return Map.of("slept_ms", ms);
    }

    @GetMapping("/api/slow-query")
    public Map<String, Integer> slowQuery(@RequestParam(defaultValue = "100") int ms) throws SQLException {
        try (Connection c = Db.connect();
             PreparedStatement st = c.prepareStatement("SELECT pg_sleep(? / 1000.0)")) {
            st.setInt(1, ms);
            st.execute();
        }
        return Map.of("slept_ms", ms);
    }

    @GetMapping("/api/boom")
    public String boom() {
        throw new IllegalStateException("boom: an unexpected failure");
    }

    private static Map<String, Object> row(ResultSet rs) throws SQLException {
        Map<String, Object> user = new LinkedHashMap<>();
        user.put("id", rs.getInt("id"));
        user.put("name", rs.getString("name"));
        user.put("email", rs.getString("email"));
        return user;
    }
}
