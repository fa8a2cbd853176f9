package lab.backend.capstone.config;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

import com.zaxxer.hikari.HikariDataSource;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * One HikariCP pool of at most DB_POOL_MAX connections, shared by every request.
 *
 * DATABASE_URL uses the libpq form (postgresql://user:password@host:port/db?params),
 * which JDBC does not accept; {@link #toJdbc} converts it. A request waits at most 10 s
 * for a connection (a burst queues behind the pool rather than failing), then gets a
 * 503; the readiness probe bounds its own wait (health/DatabaseHealthIndicator).
 */
@Configuration(proxyBeanMethods = false)
public class DatabaseConfig {

    @Bean(destroyMethod = "close") // closed on shutdown, after the web server has drained
    public HikariDataSource dataSource(AppProperties props) {
        JdbcUrl url = toJdbc(props.databaseUrl());
        // The no-arg constructor starts the pool lazily, on the first getConnection()
        // (as Spring Boot's own DataSource does): start-up never waits for the database.
        HikariDataSource pool = new HikariDataSource();
        pool.setPoolName("capstone-pool");
        pool.setJdbcUrl(url.jdbcUrl());
        pool.setUsername(url.username());
        pool.setPassword(url.password());
        pool.setMaximumPoolSize(props.dbPoolMax()); // DB_POOL_MAX: the hard bound
        pool.setMinimumIdle(props.dbPoolMax()); // HikariCP's advice: a fixed-size pool
        pool.setConnectionTimeout(10_000); // a full pool queues requests; readiness has its own bound
        pool.setValidationTimeout(1_000);
        if (!url.jdbcUrl().contains("ApplicationName=")) {
            pool.addDataSourceProperty("ApplicationName", "capstone-spring"); // pg_stat_activity
        }
        return pool;
    }

    /** A JDBC url plus credentials (the PostgreSQL driver wants them apart). */
    public record JdbcUrl(String jdbcUrl, String username, String password) {
    }

    /** postgresql://user:pw@host:5432/db?sslmode=require -> jdbc:postgresql://host:5432/db?sslmode=require */
    public static JdbcUrl toJdbc(String databaseUrl) {
        if (databaseUrl.startsWith("jdbc:")) {
            return new JdbcUrl(databaseUrl, null, null);
        }
        URI uri = URI.create(databaseUrl);
        if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
            throw new IllegalArgumentException("DATABASE_URL must start with postgresql://, got " + uri.getScheme() + "://");
        }
        String user = null;
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String[] parts = uri.getRawUserInfo().split(":", 2);
            user = decode(parts[0]);
            password = parts.length > 1 ? decode(parts[1]) : null;
        }
        String host = uri.getHost() == null ? "localhost" : uri.getHost();
        int port = uri.getPort() == -1 ? 5432 : uri.getPort();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        return new JdbcUrl("jdbc:postgresql://" + host + ":" + port + path + query, user, password);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
