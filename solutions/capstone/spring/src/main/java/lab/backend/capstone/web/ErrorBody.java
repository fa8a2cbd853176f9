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

    /** The contract's code for a status (docs/service-contract.md): one status, one code; any
     * other 4xx is BAD_REQUEST, any other 5xx INTERNAL_ERROR. */
    public static String codeFor(int status) {
        return switch (status) {
            case 400 -> "BAD_REQUEST";
            case 404 -> "NOT_FOUND";
            case 405 -> "METHOD_NOT_ALLOWED";
            case 409 -> "CONFLICT";
            case 413 -> "PAYLOAD_TOO_LARGE";
            case 422 -> "VALIDATION_ERROR";
            case 429 -> "RATE_LIMITED";
            case 502 -> "BAD_GATEWAY";
            case 503 -> "SERVICE_UNAVAILABLE";
            case 504 -> "GATEWAY_TIMEOUT";
            default -> status < 500 ? "BAD_REQUEST" : "INTERNAL_ERROR";
        };
    }
}
