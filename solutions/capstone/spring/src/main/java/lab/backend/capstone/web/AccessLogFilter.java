package lab.backend.capstone.web;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * One structured access line per request, with ECS field names (http.request.method,
 * url.path, http.response.status_code, event.duration in ns) added as SLF4J key-value
 * pairs, which Spring Boot's ECS console format writes as JSON fields. No header is
 * ever logged (Authorization, cookies), nor the query string. 5xx at ERROR, 4xx at WARN.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 2)
public class AccessLogFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger("http.access");

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long start = System.nanoTime();
        boolean failed = false;
        try {
            chain.doFilter(request, response);
        } catch (IOException | ServletException | RuntimeException e) {
            failed = true; // the container will answer 500
            throw e;
        } finally {
            long nanos = System.nanoTime() - start;
            int status = failed ? 500 : response.getStatus();
            Level level = status >= 500 ? Level.ERROR : status >= 400 ? Level.WARN : Level.INFO;
            log.atLevel(level)
                    .addKeyValue("http.request.method", request.getMethod())
                    .addKeyValue("url.path", request.getRequestURI())
                    .addKeyValue("http.response.status_code", status)
                    .addKeyValue("event.duration", nanos)
                    .addKeyValue("client.ip", request.getRemoteAddr())
                    .log("{} {} {} {} ms", request.getMethod(), request.getRequestURI(), status,
                            String.format("%.1f", nanos / 1e6));
        }
    }
}
