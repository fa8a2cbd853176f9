package lab.backend.starter;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A naive Spring Boot version of the service contract (docs/service-contract.md):
 * every route works on a happy path, and nothing more. Your task (README.md): make it
 * production-ready until `course check .` passes all 11 items.
 */
@SpringBootApplication
public class StarterApplication {

    public static void main(String[] args) {
        SpringApplication.run(StarterApplication.class, args);
    }
}
