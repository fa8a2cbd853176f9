package lab.backend.capstone.web;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import lab.backend.capstone.config.AppProperties;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW_MS per client on /api/** (Bucket4j: a
 * bucket of RATE_LIMIT_MAX tokens refilled all at once every window). The client is
 * the socket's peer address: server.forward-headers-strategy=none, so a forged
 * X-Forwarded-For changes nothing. Health and metrics are outside /api, never limited.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
public class RateLimitFilter extends OncePerRequestFilter {

    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final AtomicLong lastSweep = new AtomicLong(System.nanoTime());
    private final int max;
    private final Duration window;
    private final byte[] body;

    public RateLimitFilter(AppProperties props, ObjectMapper mapper) throws IOException {
        this.max = props.rateLimit().max();
        this.window = props.rateLimit().window();
        this.body = mapper.writeValueAsBytes(ErrorBody.of("RATE_LIMITED",
                "Too many requests: at most " + max + " per " + window.toMillis() + " ms"));
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith("/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        sweep();
        Bucket bucket = buckets.computeIfAbsent(request.getRemoteAddr(), ip -> newBucket());
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        response.setHeader("X-RateLimit-Limit", Integer.toString(max));
        response.setHeader("X-RateLimit-Remaining", Long.toString(probe.getRemainingTokens()));
        if (probe.isConsumed()) {
            chain.doFilter(request, response);
            return;
        }
        long retryAfter = Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
        response.setStatus(429);
        response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(retryAfter));
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.getOutputStream().write(body);
    }

    private Bucket newBucket() {
        return Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(max).refillIntervally(max, window).build())
                .build();
    }

    /** Forget clients whose bucket is full again: a full bucket equals a new one. */
    private void sweep() {
        long now = System.nanoTime();
        long last = lastSweep.get();
        if (now - last > window.toNanos() && lastSweep.compareAndSet(last, now)) {
            buckets.values().removeIf(b -> b.getAvailableTokens() >= max);
        }
    }
}
