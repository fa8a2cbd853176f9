"""Exercises for section 04 (Java / Spring Boot). Run: .venv/bin/python tools/exercises/04_java.py"""
from common import PARAMETERS, SETUP, exercise

# --------------------------------------------------------------------------------------
# 1. A Spring Boot controller + service, errors through a @RestControllerAdvice (HTTP probes)
# --------------------------------------------------------------------------------------
exercise("04-java/01-spring-products-api.ipynb", {
    "id": "java-spring-products-api",
    "title": "Spring Boot: a products API with a 404 and a 422 from one @RestControllerAdvice",
    "section": "04-java", "language": "java", "framework": "spring",
    "checklist": ["error-handling", "request-validation"], "points": 4,
    "files": ["work/ProductsApp.java"],
}, [
    ("md", """
# Exercise — Spring Boot: a products API with proper error answers

The app below has everything but the interesting parts: an in-memory `ProductService`, a
`ProductController` that receives the service through its **constructor** (no `@Autowired`
field), and an empty `@RestControllerAdvice`. Finish the four marked method bodies so that:

1. `GET /api/products/{id}` answers **200** with the product; for an unknown id the controller
   throws `ResourceNotFoundException` (the seed's `findById(...).orElseThrow(...)`), which the
   advice turns into **404** with the course's envelope
   `{"error": {"code": "NOT_FOUND", "message": "Product 42 not found"}}` (the message names the id);
2. `POST /api/products` with a valid JSON body (`name`, `priceCents`) answers **201** with the new
   product and a `Location` header `/api/products/{id}`;
3. a body that fails `@Valid` (blank `name`, negative or missing `priceCents`) answers **422** with
   `{"error": {"code": "VALIDATION_ERROR", "message": "...", "details": [{"field": "name",
   "message": "..."}, ...]}}` — one entry per failing field.

Spring takes a few seconds to start; the cell returns once the server answers. Then run every
cell; the last one checks your server (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP,
    ("code", """
%%java --save work/ProductsApp.java --serve products --ready-timeout 90 --env "JDK_JAVA_OPTIONS=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
package exercise;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;
import java.net.URI;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Service;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.*;

record Product(long id, String name, int priceCents) {}

record NewProduct(@NotBlank String name, @NotNull @PositiveOrZero Integer priceCents) {}

class ResourceNotFoundException extends RuntimeException {
    ResourceNotFoundException(String message) { super(message); }
}

// ---- the error envelope: {"error": {"code", "message", "details"?}} ----
@JsonInclude(JsonInclude.Include.NON_NULL)
record ApiError(String code, String message, List<FieldProblem> details) {}

record FieldProblem(String field, String message) {}

record ErrorBody(ApiError error) {}

@Service
class ProductService {
    private final Map<Long, Product> products = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    ProductService() {
        create(new NewProduct("Mechanical keyboard", 8900));
        create(new NewProduct("USB-C cable", 1200));
    }

    Optional<Product> findById(long id) {
        return Optional.ofNullable(products.get(id));
    }

    Product create(NewProduct p) {
        long id = ids.incrementAndGet();
        Product product = new Product(id, p.name().strip(), p.priceCents());
        products.put(id, product);
        return product;
    }
}

@RestController
@RequestMapping("/api/products")
class ProductController {
    private final ProductService products;

    ProductController(ProductService products) {  // constructor injection: Spring passes the bean
        this.products = products;
    }

    @GetMapping("/{id}")
    ResponseEntity<Product> get(@PathVariable long id) {
        // ### BEGIN SOLUTION
        Product product = products.findById(id)
            .orElseThrow(() -> new ResourceNotFoundException("Product " + id + " not found"));
        return ResponseEntity.ok(product);
        // ### END SOLUTION
    }

    @PostMapping
    ResponseEntity<Product> create(@RequestBody @Valid NewProduct body) {
        // ### BEGIN SOLUTION
        Product product = products.create(body);
        return ResponseEntity.created(URI.create("/api/products/" + product.id())).body(product);
        // ### END SOLUTION
    }
}

@RestControllerAdvice
class ApiErrors {
    @ExceptionHandler(ResourceNotFoundException.class)
    ResponseEntity<ErrorBody> notFound(ResourceNotFoundException e) {
        // ### BEGIN SOLUTION
        return ResponseEntity.status(HttpStatus.NOT_FOUND)
            .body(new ErrorBody(new ApiError("NOT_FOUND", e.getMessage(), null)));
        // ### END SOLUTION
    }

    @ExceptionHandler(MethodArgumentNotValidException.class)
    ResponseEntity<ErrorBody> invalid(MethodArgumentNotValidException e) {
        // ### BEGIN SOLUTION
        List<FieldProblem> details = e.getBindingResult().getFieldErrors().stream()
            .map(f -> new FieldProblem(f.getField(), f.getDefaultMessage()))
            .sorted(Comparator.comparing(FieldProblem::field))
            .toList();
        return ResponseEntity.status(HttpStatus.UNPROCESSABLE_ENTITY)
            .body(new ErrorBody(new ApiError("VALIDATION_ERROR", "Request validation failed", details)));
        // ### END SOLUTION
    }
}

@SpringBootApplication(exclude = DataSourceAutoConfiguration.class)  // no database in this exercise
public class ProductsApp {
    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(ProductsApp.class);
        app.setDefaultProperties(Map.of(
            "server.port", System.getenv().getOrDefault("PORT", "8080"),
            "server.address", System.getenv().getOrDefault("HOST", "127.0.0.1"),
            "spring.main.banner-mode", "off"));
        app.run(args);
    }
}
"""),
    ("md", "Try it: the server runs in the background; this cell sends it a few requests."),
    ("code", """
import httpx

api = course.url("products") + "/api/products"
for r in [httpx.get(api + "/1"), httpx.get(api + "/42"),
          httpx.post(api, json={"name": "Desk lamp", "priceCents": 2500}),
          httpx.post(api, json={"name": " ", "priceCents": -3})]:
    print(r.request.method, r.request.url.path, "→", r.status_code, r.headers.get("location") or "", r.text[:160])
"""),
    ("code", """
from course.grading import test

SPRING_ENV = {"JDK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}


def start(ctx):
    # one Spring server for all the checks (the same file and environment are shared)
    return ctx.serve("work/ProductsApp.java", env=SPRING_ENV, ready_timeout=90)


def error_of(r):
    assert "json" in r.headers.get("content-type", ""), f"expected a JSON body, got {r.headers.get('content-type')}"
    error = r.json().get("error")
    assert isinstance(error, dict), f'expected the envelope {{"error": {{"code", "message"}}}}, got {r.text[:160]}'
    return error


@test("GET /api/products/1 answers 200 with product 1", points=1)
def finds_a_product(ctx):
    start(ctx)
    r = ctx.get("/api/products/1")
    assert r.status_code == 200, f"expected 200, got {r.status_code}"
    body = r.json()
    assert body.get("id") == 1 and body.get("name"), f"expected product 1 with its name, got {r.text[:160]}"


@test("an unknown id answers 404 with the error envelope", points=1, checklist=["error-handling"],
      hint="throw ResourceNotFoundException in the controller; map it to 404 in the @RestControllerAdvice")
def unknown_product(ctx):
    start(ctx)
    r = ctx.get("/api/products/424242")
    assert r.status_code == 404, f"expected 404, got {r.status_code}"
    error = error_of(r)
    assert error.get("code") == "NOT_FOUND", f"expected error.code NOT_FOUND, got {error.get('code')!r}"
    assert "424242" in str(error.get("message")), "the message should name the missing id"


@test("POST /api/products answers 201 with a Location that serves the new product", points=1,
      hint="ResponseEntity.created(URI.create(\\"/api/products/\\" + id)).body(product)")
def creates_a_product(ctx):
    start(ctx)
    r = ctx.post("/api/products", json={"name": "Standing desk", "priceCents": 39900})
    assert r.status_code == 201, f"expected 201, got {r.status_code}"
    created = r.json()
    assert created.get("name") == "Standing desk" and isinstance(created.get("id"), int), \\
        f"expected the new product with its id, got {r.text[:160]}"
    location = r.headers.get("location", "")
    assert location.endswith(f"/api/products/{created['id']}"), f"expected Location /api/products/{created['id']}, got {location!r}"
    again = ctx.get(f"/api/products/{created['id']}")
    assert again.status_code == 200 and again.json().get("name") == "Standing desk", \\
        "GET on the new product's id should find it"

### BEGIN HIDDEN TESTS
@test("an invalid body answers 422 VALIDATION_ERROR naming each bad field", points=1,
      checklist=["request-validation"],
      hint="in the advice, map MethodArgumentNotValidException's field errors to details [{field, message}]")
def rejects_an_invalid_product(ctx):
    start(ctx)
    r = ctx.post("/api/products", json={"name": "  ", "priceCents": -5})
    assert r.status_code == 422, f"expected 422, got {r.status_code}"
    error = error_of(r)
    assert error.get("code") == "VALIDATION_ERROR", f"expected error.code VALIDATION_ERROR, got {error.get('code')!r}"
    fields = {d.get("field") for d in error.get("details") or [] if isinstance(d, dict)}
    assert {"name", "priceCents"} <= fields, f"expected details for name and priceCents, got {sorted(map(str, fields))}"
    missing = ctx.post("/api/products", json={"name": "Mouse"})
    assert missing.status_code == 422, f"a missing priceCents should be a 422 too, got {missing.status_code}"
### END HIDDEN TESTS
"""),
])

# --------------------------------------------------------------------------------------
# 2. A plain-Java service with constructor injection, graded with JUnit 5
# --------------------------------------------------------------------------------------
JUNIT_HELPER = '''
from course.grading import test
import hashlib, shutil, tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from course import toolchains
from course.runners.java import NON_JDK_IMPORT, PUBLIC_CLASS, course_classpath

LEARNER_FILE = "work/UserService.java"
JUNIT_CLASSES = {}  # JUnit test class name -> source (every class below is compiled and run once)
_RUNS = {}          # (learner source, test sources) -> outcome


def run_junit(ctx):
    """Compile the learner's file with every JUnit class, run them all once with JUnit 5's
    console launcher, and return {"cases": {class: [(test, failure or None)]}} or {"error": ...}."""
    learner = ctx.source(LEARNER_FILE)
    key = hashlib.sha256("\\0".join([learner, *sorted(JUNIT_CLASSES.values())]).encode()).hexdigest()
    if key in _RUNS:
        return _RUNS[key]
    full = course_classpath()
    assert full, "the course's Java classpath is missing: run `make setup`"
    jar = next(p for p in full.split(":") if "junit-platform-console-standalone" in p)
    cp = full if NON_JDK_IMPORT.search(learner) else jar
    work = Path(tempfile.mkdtemp(prefix="junit-"))
    try:
        public = PUBLIC_CLASS.search(learner)
        (work / f"{public.group(1) if public else 'Cell'}.java").write_text(learner)
        for name, source in JUNIT_CLASSES.items():
            (work / f"{name}.java").write_text(source)
        javac = ctx.run([toolchains.require("javac"), "-encoding", "UTF-8", "-d", "classes", "-cp", cp,
                         *sorted(p.name for p in work.glob("*.java"))], cwd=work, timeout=180)
        if not javac.ok:
            outcome = {"error": "your code and the tests do not compile together:\\n"
                                + (javac.stdout + javac.stderr_tail).strip()[-600:]}
        else:
            ctx.run([toolchains.require("java"), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                     "-cp", f"classes:{cp}", "org.junit.platform.console.ConsoleLauncher", "execute",
                     "--disable-banner", "--details=none", "--reports-dir=reports",
                     *[f"--select-class={name}" for name in JUNIT_CLASSES]], cwd=work, timeout=180)
            report = work / "reports" / "TEST-junit-jupiter.xml"
            if not report.exists():
                outcome = {"error": "JUnit did not run (no report); see the output"}
            else:
                cases = {}
                for case in ET.parse(report).iter("testcase"):
                    problem = case.find("failure")
                    if problem is None:
                        problem = case.find("error")
                    why = None
                    if problem is not None:
                        kind = (problem.get("type") or "").rsplit(".", 1)[-1]
                        why = f"{kind}: {problem.get('message') or ''}".strip(": ")
                    cases.setdefault(case.get("classname"), []).append((case.get("name"), why))
                outcome = {"cases": cases}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _RUNS[key] = outcome
    return outcome


def junit(ctx, name):
    """Assert that every JUnit test of class `name` passed."""
    outcome = run_junit(ctx)
    assert "error" not in outcome, outcome.get("error")
    cases = outcome["cases"].get(name)
    assert cases, f"JUnit found no test in {name}"
    failed = [f"{test_name} → {why}" for test_name, why in cases if why]
    assert not failed, "; ".join(failed)


FAKE = """
    static UserService service() {
        Map<Long, User> rows = new HashMap<>();
        for (long id : new long[] {3, 1, 5, 2, 4}) {     // findAll() returns them in this order
            rows.put(id, new User(id, "user " + id, "user" + id + "@example.com"));
        }
        List<Long> order = List.of(3L, 1L, 5L, 2L, 4L);
        return new UserService(new UserRepository() {   // a fake: no database, no Spring
            public Optional<User> findById(long id) { return Optional.ofNullable(rows.get(id)); }
            public List<User> findAll() { return new ArrayList<>(order.stream().map(rows::get).toList()); }
        });
    }

    static List<Long> ids(Page<User> page) { return page.items().stream().map(User::id).toList(); }
"""
IMPORTS = """import static org.junit.jupiter.api.Assertions.*;
import java.util.*;
import org.junit.jupiter.api.Test;
"""
'''

exercise("04-java/02-user-service-junit.ipynb", {
    "id": "java-user-service-junit",
    "title": "Plain Java: a UserService with constructor injection, tested with JUnit 5",
    "section": "04-java", "language": "java", "framework": None,
    "checklist": ["error-handling", "request-validation"], "points": 4,
    "files": ["work/UserService.java"],
}, [
    ("md", """
# Exercise — a `UserService` that a unit test can build with `new`

The seed's `UserService` gets its repository through an `@Autowired` field, so it only works inside
Spring. Here it takes the repository in its **constructor**, which means a JUnit test can hand it
a fake — no database, no Spring context, milliseconds per test. That is how this exercise is
graded: JUnit 5 tests (run with JUnit's console launcher) create `new UserService(fakeRepository)`
and call your methods.

Finish the two methods:

1. `getUser(id)` returns the user from the repository's `Optional`, or throws
   `ResourceNotFoundException` whose message names the id (`"User 42 not found"`) — the seed's
   `findById(id).orElseThrow(...)`.
2. `listUsers(page, size)` returns one `Page` of users **sorted by id** (the repository returns them
   in no particular order). `page` is 1-based; `total` counts all users; `hasNext` says whether a
   later page has users. Reject bad input with `IllegalArgumentException`: `page < 1`, or `size`
   outside `1..100`. A page past the end is not an error: it is empty.

Keep the class and method signatures (the tests compile against them). Run every cell; the last
one checks your code (some checks are kept for grading).
"""),
    PARAMETERS,
    SETUP,
    ("code", """
%%java --save work/UserService.java
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

record User(long id, String name, String email) {}

/** One page of results: `page` is 1-based, `total` counts every user (not just this page's). */
record Page<T>(List<T> items, int page, int size, int total, boolean hasNext) {}

class ResourceNotFoundException extends RuntimeException {
    ResourceNotFoundException(String message) { super(message); }
}

/** What UserService needs from storage (JDBC or Spring Data in the real app). */
interface UserRepository {
    Optional<User> findById(long id);
    List<User> findAll();  // in no particular order
}

class UserService {
    private final UserRepository users;

    UserService(UserRepository users) {  // constructor injection: a test passes a fake
        this.users = users;
    }

    /** The user with this id, or ResourceNotFoundException("User <id> not found"). */
    User getUser(long id) {
        // ### BEGIN SOLUTION
        return users.findById(id)
            .orElseThrow(() -> new ResourceNotFoundException("User " + id + " not found"));
        // ### END SOLUTION
    }

    /** Page `page` (1-based) of `size` users sorted by id; IllegalArgumentException for bad input. */
    Page<User> listUsers(int page, int size) {
        // ### BEGIN SOLUTION
        if (page < 1) {
            throw new IllegalArgumentException("page must be 1 or more, got " + page);
        }
        if (size < 1 || size > 100) {
            throw new IllegalArgumentException("size must be between 1 and 100, got " + size);
        }
        List<User> all = new ArrayList<>(users.findAll());
        all.sort(Comparator.comparingLong(User::id));
        long from = (long) (page - 1) * size;
        List<User> items = from >= all.size()
            ? List.of()
            : List.copyOf(all.subList((int) from, (int) Math.min(all.size(), from + size)));
        return new Page<>(items, page, size, all.size(), from + size < all.size());
        // ### END SOLUTION
    }
}

/** A demo with an in-memory repository (the checks bring their own fake). */
public class UserServiceDemo {
    public static void main(String[] args) {
        Map<Long, User> rows = new TreeMap<>(Map.of(
            2L, new User(2, "Grace Hopper", "grace@example.com"),
            1L, new User(1, "Ada Lovelace", "ada@example.com"),
            3L, new User(3, "Edsger Dijkstra", "edsger@example.com")));
        UserService service = new UserService(new UserRepository() {
            public Optional<User> findById(long id) { return Optional.ofNullable(rows.get(id)); }
            public List<User> findAll() { return new ArrayList<>(rows.values()); }
        });
        try {
            System.out.println("getUser(1)      -> " + service.getUser(1));
            System.out.println("listUsers(1, 2) -> " + service.listUsers(1, 2));
            service.getUser(42);
        } catch (ResourceNotFoundException e) {
            System.out.println("getUser(42)     -> ResourceNotFoundException: " + e.getMessage());
        } catch (UnsupportedOperationException e) {
            System.out.println("not implemented yet: " + e.getMessage());
        }
    }
}
"""),
    ("md", """
The checks below compile your file together with JUnit test classes and run them with JUnit's
console launcher; each check passes when all tests of its class pass.
"""),
    ("code", JUNIT_HELPER.strip() + '''


JUNIT_CLASSES["GetUserTest"] = IMPORTS + """
class GetUserTest {""" + FAKE + """
    @Test void returnsTheRepositorysUser() {
        assertEquals(new User(5, "user 5", "user5@example.com"), service().getUser(5));
    }
}
"""

JUNIT_CLASSES["MissingUserTest"] = IMPORTS + """
class MissingUserTest {""" + FAKE + """
    @Test void throwsResourceNotFoundNamingTheId() {
        ResourceNotFoundException e = assertThrows(ResourceNotFoundException.class, () -> service().getUser(404));
        assertTrue(e.getMessage() != null && e.getMessage().contains("404"),
            "the message should name the id, got: " + e.getMessage());
    }
}
"""

JUNIT_CLASSES["ListUsersTest"] = IMPORTS + """
class ListUsersTest {""" + FAKE + """
    @Test void firstPageIsSortedById() {
        Page<User> page = service().listUsers(1, 2);
        assertEquals(List.of(1L, 2L), ids(page), "page 1 of size 2");
        assertEquals(5, page.total(), "total");
        assertTrue(page.hasNext(), "hasNext on page 1 of 3");
    }

    @Test void lastPageIsPartial() {
        Page<User> page = service().listUsers(3, 2);
        assertEquals(List.of(5L), ids(page), "page 3 of size 2");
        assertFalse(page.hasNext(), "hasNext on the last page");
        assertEquals(3, page.page());
        assertEquals(2, page.size());
    }
}
"""


@test("getUser returns the repository's user", points=1)
def gets_a_user(ctx):
    junit(ctx, "GetUserTest")


@test("getUser of a missing id throws ResourceNotFoundException naming the id", points=1,
      checklist=["error-handling"], hint="users.findById(id).orElseThrow(() -> new ResourceNotFoundException(...))")
def missing_user(ctx):
    junit(ctx, "MissingUserTest")


@test("listUsers pages through the users sorted by id", points=1,
      hint="sort a copy of findAll() by id, then take subList((page - 1) * size, ...)")
def lists_users(ctx):
    junit(ctx, "ListUsersTest")

### BEGIN HIDDEN TESTS
JUNIT_CLASSES["PagingRulesTest"] = IMPORTS + """
class PagingRulesTest {""" + FAKE + """
    @Test void rejectsBadPageOrSize() {
        UserService service = service();
        for (int[] bad : new int[][] {{0, 10}, {-1, 10}, {1, 0}, {1, 101}}) {
            assertThrows(IllegalArgumentException.class, () -> service.listUsers(bad[0], bad[1]),
                "listUsers(" + bad[0] + ", " + bad[1] + ") should be rejected");
        }
    }

    @Test void acceptsTheLimits() {
        Page<User> page = service().listUsers(1, 100);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), ids(page));
        assertFalse(page.hasNext(), "everything fits on page 1");
        assertFalse(service().listUsers(1, 5).hasNext(), "5 users, size 5: no next page");
    }

    @Test void pagePastTheEndIsEmpty() {
        Page<User> page = service().listUsers(4, 2);
        assertEquals(List.of(), ids(page), "page 4 of size 2 (only 3 pages)");
        assertEquals(5, page.total(), "total on an empty page");
        assertFalse(page.hasNext());
    }
}
"""


@test("listUsers rejects a bad page or size and answers an empty page past the end", points=1,
      checklist=["request-validation"], hint="IllegalArgumentException when page < 1 or size is not in 1..100")
def paging_rules(ctx):
    junit(ctx, "PagingRulesTest")
### END HIDDEN TESTS
'''),
])
