package lab.backend.capstone.health;

import org.springframework.boot.actuate.health.HealthComponent;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.Status;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The contract's probe paths on top of Actuator's health groups (application.properties):
 * GET /health is the liveness group (the process answers; the database is never
 * consulted, or Kubernetes would restart healthy pods during a database outage) and
 * GET /health/ready is the readiness group (readiness state + the DataSource check),
 * 503 when the database is unreachable or the app is draining on shutdown.
 * Actuator's own group paths cannot be nested under a path of our choosing
 * (additional-path takes one segment), hence this small controller.
 */
@RestController
public class ProbesController {

    private final HealthEndpoint health;

    public ProbesController(HealthEndpoint health) {
        this.health = health;
    }

    @GetMapping("/health")
    public ResponseEntity<HealthComponent> liveness() {
        return group("liveness");
    }

    @GetMapping("/health/ready")
    public ResponseEntity<HealthComponent> readiness() {
        return group("readiness");
    }

    private ResponseEntity<HealthComponent> group(String name) {
        HealthComponent component = health.healthForPath(name);
        HttpStatus status = component != null && Status.UP.equals(component.getStatus())
                ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE;
        return ResponseEntity.status(status).body(component);
    }
}
