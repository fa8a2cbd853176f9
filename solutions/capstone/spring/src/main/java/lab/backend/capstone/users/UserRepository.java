package lab.backend.capstone.users;

import java.util.List;
import java.util.Optional;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** SQL on the shared HikariCP pool (JdbcClient borrows a connection per statement). */
@Repository
public class UserRepository {

    private final JdbcClient jdbc;

    public UserRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public List<User> findAll() {
        return jdbc.sql("SELECT id, name, email FROM users ORDER BY id").query(User.class).list();
    }

    public Optional<User> findById(long id) {
        return jdbc.sql("SELECT id, name, email FROM users WHERE id = ?").param(id).query(User.class).optional();
    }

    public User insert(String name, String email) {
        return jdbc.sql("INSERT INTO users (name, email) VALUES (?, ?) RETURNING id, name, email")
                .params(name, email)
                .query(User.class)
                .single();
    }
}
