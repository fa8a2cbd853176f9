package lab.backend.capstone.config;

import java.time.Duration;
import java.util.List;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * The contract's environment variables, bound in application.properties
 * (DATABASE_URL, DB_POOL_MAX, CORS_ORIGINS, RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS) and
 * validated at start-up: a bad value stops the service with a clear message.
 */
@Validated
@ConfigurationProperties(prefix = "app")
public record AppProperties(
        @NotBlank String databaseUrl,
        @Min(1) int dbPoolMax,
        List<String> corsOrigins,
        @NotNull RateLimit rateLimit) {

    public AppProperties {
        corsOrigins = corsOrigins == null ? List.of()
                : corsOrigins.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    public record RateLimit(@Min(1) int max, @NotNull Duration window) {
    }
}
