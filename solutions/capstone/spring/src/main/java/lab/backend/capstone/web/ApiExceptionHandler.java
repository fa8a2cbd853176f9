package lab.backend.capstone.web;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

import lab.backend.capstone.users.UserNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.validation.FieldError;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.NoHandlerFoundException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * Every error the MVC layer sees becomes the JSON envelope with the right status.
 * Expected client errors are answered quietly; anything unexpected is logged at error
 * level with its stack trace (in the log, never in the response) and answered 500.
 */
@RestControllerAdvice
public class ApiExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    /** @Valid failed: 422 naming every invalid field. */
    @ExceptionHandler(MethodArgumentNotValidException.class)
    ResponseEntity<ErrorBody> invalidBody(MethodArgumentNotValidException ex) {
        List<ErrorBody.FieldProblem> details = new ArrayList<>();
        for (FieldError fe : ex.getBindingResult().getFieldErrors()) {
            details.add(new ErrorBody.FieldProblem(fe.getField(), fe.getField() + " " + fe.getDefaultMessage()));
        }
        ex.getBindingResult().getGlobalErrors()
                .forEach(ge -> details.add(new ErrorBody.FieldProblem(ge.getObjectName(), ge.getDefaultMessage())));
        return error(HttpStatus.UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "Request body is invalid", details);
    }

    /** Malformed JSON is a 400; well-formed JSON of the wrong shape names the field (422). */
    @ExceptionHandler(HttpMessageNotReadableException.class)
    ResponseEntity<ErrorBody> unreadable(HttpMessageNotReadableException ex) {
        if (ex.getCause() instanceof MismatchedInputException mismatch && !mismatch.getPath().isEmpty()) {
            String field = mismatch.getPath().stream()
                    .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : String.valueOf(ref.getIndex()))
                    .collect(Collectors.joining("."));
            return error(HttpStatus.UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "Request body is invalid",
                    List.of(new ErrorBody.FieldProblem(field, field + " has the wrong type")));
        }
        String message = ex.getCause() instanceof JsonProcessingException && !(ex.getCause() instanceof JsonMappingException)
                ? "Malformed JSON body"
                : "Request body is missing or is not a JSON object";
        return error(HttpStatus.BAD_REQUEST, "BAD_REQUEST", message, null);
    }

    /** @Min/@Max on a query parameter (e.g. /api/slow?ms=-5): 400 naming the parameter. */
    @ExceptionHandler(HandlerMethodValidationException.class)
    ResponseEntity<ErrorBody> invalidParameter(HandlerMethodValidationException ex) {
        List<ErrorBody.FieldProblem> details = new ArrayList<>();
        ex.getParameterValidationResults().forEach(result -> {
            String name = result.getMethodParameter().getParameterName();
            result.getResolvableErrors().forEach(
                    error -> details.add(new ErrorBody.FieldProblem(name, name + " " + error.getDefaultMessage())));
        });
        return error(HttpStatus.BAD_REQUEST, "BAD_REQUEST", "Invalid request parameters", details);
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ErrorBody> badParameter(MethodArgumentTypeMismatchException ex) {
        return error(HttpStatus.BAD_REQUEST, "BAD_REQUEST", ex.getName() + " must be an integer", null);
    }

    @ExceptionHandler(UserNotFoundException.class)
    ResponseEntity<ErrorBody> userNotFound(UserNotFoundException ex) {
        return error(HttpStatus.NOT_FOUND, "NOT_FOUND", ex.getMessage(), null);
    }

    @ExceptionHandler({NoHandlerFoundException.class, NoResourceFoundException.class})
    ResponseEntity<ErrorBody> noRoute(Exception ex) {
        return error(HttpStatus.NOT_FOUND, "NOT_FOUND", "Route not found", null);
    }

    /** The database is unreachable (pool timeout, connection refused or cut): 503, retry. */
    @ExceptionHandler({DataAccessResourceFailureException.class, TransientDataAccessResourceException.class,
            QueryTimeoutException.class})
    ResponseEntity<ErrorBody> databaseUnavailable(Exception ex) {
        log.warn("database unavailable: {}", ex.getMessage());
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                .header(HttpHeaders.RETRY_AFTER, "1")
                .body(ErrorBody.of("SERVICE_UNAVAILABLE", "Database unavailable"));
    }

    /**
     * The safety net. Framework errors that carry their own 4xx status (405, 415, 406...)
     * keep it, with its headers (a 405's Allow) and the contract's code for it; anything else is a bug: logged with its stack trace at error level, and
     * the client learns nothing more than "500".
     */
    @ExceptionHandler(Exception.class)
    ResponseEntity<ErrorBody> unexpected(Exception ex) {
        if (ex instanceof ErrorResponse framework && framework.getStatusCode().is4xxClientError()) {
            HttpStatusCode status = framework.getStatusCode();
            HttpStatus known = HttpStatus.resolve(status.value());
            return ResponseEntity.status(status).headers(framework.getHeaders())
                    .body(ErrorBody.of(ErrorBody.codeFor(status.value()),
                            known != null ? known.getReasonPhrase() : "Bad request"));
        }
        log.error("unhandled exception", ex);
        return error(HttpStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Internal server error", null);
    }

    private static ResponseEntity<ErrorBody> error(HttpStatus status, String code, String message, Object details) {
        return ResponseEntity.status(status).body(ErrorBody.of(code, message, details));
    }
}
