package lab.backend.capstone.demo;

import java.util.Map;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The contract's drill routes: a slow request, a slow query, and a bug. */
@RestController
@RequestMapping("/api")
public class DemoController {

    private final JdbcClient jdbc;

    public DemoController(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Sleeps without the database (graceful shutdown lets it finish). */
    @GetMapping("/slow")
    public Map<String, Integer> slow(@RequestParam(defaultValue = "100") @Min(0) @Max(30_000) int ms)
            throws InterruptedException {
        Thread.sleep(ms);
        return Map.of("slept_ms", ms);
    }

    /** Holds a pooled connection in pg_sleep (the pool bounds how many run at once). */
    @GetMapping("/slow-query")
    public Map<String, Integer> slowQuery(@RequestParam(defaultValue = "100") @Min(0) @Max(30_000) int ms) {
        jdbc.sql("SELECT pg_sleep(? / 1000.0)").param(ms).query().listOfRows();
        return Map.of("slept_ms", ms);
    }

    /** An unexpected exception: ApiExceptionHandler logs it and answers a bare 500. */
    @GetMapping("/boom")
    public Map<String, String> boom() {
        throw new IllegalStateException("boom: an unexpected failure");
    }
}
