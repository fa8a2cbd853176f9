package lab.backend.capstone;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The capstone service: the contract of docs/service-contract.md, production-ready. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class CapstoneApplication {

    public static void main(String[] args) {
        SpringApplication.run(CapstoneApplication.class, args);
    }
}
