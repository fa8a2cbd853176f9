package lab.backend.starter;

import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * Opens a brand-new database connection every time it is asked. (Hint: how many
 * connections does a burst of requests open? How long does each one take?)
 */
public final class Db {

    private Db() {
    }

    public static Connection connect() throws SQLException {
        // DATABASE_URL looks like postgresql://user@host:port/db; JDBC wants jdbc:postgresql://host:port/db
        URI uri = URI.create(System.getenv("DATABASE_URL"));
        String user = uri.getUserInfo() == null ? null : uri.getUserInfo().split(":", 2)[0];
        String password = uri.getUserInfo() != null && uri.getUserInfo().contains(":")
                ? uri.getUserInfo().split(":", 2)[1] : null;
        String url = "jdbc:postgresql://" + uri.getHost() + ":" + (uri.getPort() == -1 ? 5432 : uri.getPort())
                + uri.getPath();
        return DriverManager.getConnection(url, user, password);
    }
}
