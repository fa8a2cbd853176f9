package lab.backend.capstone.web;

import com.fasterxml.jackson.annotation.JsonInclude;

/** The contract's error envelope: {"error": {"code", "message", "details"?}}. */
public record ErrorBody(Error error) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Error(String code, String message, Object details) {
    }

    /** One entry of a VALIDATION_ERROR's details. */
    public record FieldProblem(String field, String message) {
    }

    public static ErrorBody of(String code, String message) {
        return new ErrorBody(new Error(code, message, null));
    }

    public static ErrorBody of(String code, String message, Object details) {
        return new ErrorBody(new Error(code, message, details));
    }
}
