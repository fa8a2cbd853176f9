package lab.backend.capstone.users;

/** A row of the users table. */
public record User(long id, String name, String email) {
}
