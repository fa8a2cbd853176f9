package lab.backend.capstone.users;

import jakarta.validation.constraints.Email;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;

/** The body of POST /api/users, checked by @Valid; every violation is reported at once. */
public record CreateUserRequest(
        @NotBlank(message = "is required and must be a non-empty string")
        @Size(max = 100, message = "must be at most 100 characters")
        String name,

        @NotBlank(message = "is required and must be a non-empty string")
        @Email(message = "must be a valid email address")
        @Size(max = 254, message = "must be at most 254 characters")
        String email) {
}
