package lab.backend.capstone.config;

import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;

import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * By default Jackson turns {"name": 5} into name = "5" and the request looks valid.
 * Here a number or boolean where a string belongs becomes null instead, so bean
 * validation reports that field next to every other invalid one, in a single 422
 * (Jackson itself would stop at the first bad field).
 */
@Configuration(proxyBeanMethods = false)
public class JacksonConfig {

    @Bean
    Jackson2ObjectMapperBuilderCustomizer strictStrings() {
        return builder -> builder.postConfigurer(mapper -> mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.AsNull)
                .setCoercion(CoercionInputShape.Float, CoercionAction.AsNull)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.AsNull));
    }
}
