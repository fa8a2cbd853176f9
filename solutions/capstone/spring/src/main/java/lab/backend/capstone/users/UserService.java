package lab.backend.capstone.users;

import java.util.List;

import org.springframework.stereotype.Service;

@Service
public class UserService {

    private final UserRepository repository;

    public UserService(UserRepository repository) {
        this.repository = repository;
    }

    public List<User> list() {
        return repository.findAll();
    }

    public User get(long id) {
        if (id < 1 || id > Integer.MAX_VALUE) { // an integer, but no row can have it
            throw new UserNotFoundException(id);
        }
        return repository.findById(id).orElseThrow(() -> new UserNotFoundException(id));
    }

    public User create(CreateUserRequest request) {
        return repository.insert(request.name().trim(), request.email().trim());
    }
}
