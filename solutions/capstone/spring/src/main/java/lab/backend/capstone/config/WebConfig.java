package lab.backend.capstone.config;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.CorsRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * CORS for the API: only the exact origins of CORS_ORIGINS, no credentials. Spring
 * echoes an allowed origin with Vary: Origin and answers other origins without any
 * Access-Control-Allow-Origin (the browser then blocks the read).
 */
@Configuration(proxyBeanMethods = false)
public class WebConfig implements WebMvcConfigurer {

    private final AppProperties props;

    public WebConfig(AppProperties props) {
        this.props = props;
    }

    @Override
    public void addCorsMappings(CorsRegistry registry) {
        registry.addMapping("/api/**")
                .allowedOrigins(props.corsOrigins().toArray(String[]::new))
                .allowedMethods("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
                .allowedHeaders("Content-Type", "Authorization", "X-Request-Id")
                .exposedHeaders("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining")
                .allowCredentials(false)
                .maxAge(600);
    }
}
