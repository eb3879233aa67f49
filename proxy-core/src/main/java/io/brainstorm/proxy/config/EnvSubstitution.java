package io.brainstorm.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The first step of {@link ConfigLoader}: {@code ${VAR}} and {@code ${VAR:-default}} substituted in
 * every string value of the parsed YAML tree from the given environment (the default applies when
 * the variable is unset or empty, as in a shell; <code>$${</code> writes a literal <code>${</code>; values are
 * not substituted again).
 *
 * <p><b>Errors.</b> A {@link ConfigException} names the field and the variable, never the text or
 * a default value: the text may be a secret (an {@code api_key} written inline).
 */
final class EnvSubstitution {
    private static final Pattern VARIABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private EnvSubstitution() {}

    /** Substitutes {@code ${VAR}} in every string value of the tree (keys are left alone). */
    static JsonNode substitute(JsonNode node, String path, Map<String, String> env, String prefix)
            throws ConfigException {
        if (node.isTextual()) {
            String text = node.textValue();
            String replaced = substitute(text, path, env, prefix);
            return replaced.equals(text) ? node : TextNode.valueOf(replaced);
        }
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            for (Map.Entry<String, JsonNode> field : object.properties()) {
                String child = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                field.setValue(substitute(field.getValue(), child, env, prefix));
            }
        } else if (node.isArray()) {
            ArrayNode array = (ArrayNode) node;
            for (int i = 0; i < array.size(); i++) {
                array.set(i, substitute(array.get(i), path + "[" + i + "]", env, prefix));
            }
        }
        return node;
    }

    /*
     * The text may be a secret (an api_key written inline), so errors name the field and the
     * variable but never repeat the text or a default value.
     */
    static String substitute(String text, String path, Map<String, String> env, String prefix) throws ConfigException {
        if (text.indexOf('$') < 0) {
            return text;
        }
        String where = prefix + (path.isEmpty() ? "(top level)" : path) + ": ";
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
            } else if (text.startsWith("${", i)) {
                int end = text.indexOf('}', i + 2);
                if (end < 0) {
                    throw new ConfigException(where + "unclosed \"${\" (expected: ${VAR} or ${VAR:-default}; "
                            + "$${ for a literal \"${\")");
                }
                String body = text.substring(i + 2, end);
                int dash = body.indexOf(":-");
                String variable = dash < 0 ? body : body.substring(0, dash);
                if (!VARIABLE.matcher(variable).matches()) {
                    throw new ConfigException(where + "bad variable name in \"${…}\" (expected: letters, digits "
                            + "and _, not starting with a digit; $${ for a literal \"${\")");
                }
                String value = env.get(variable);
                if (value == null || value.isEmpty() && dash >= 0) {
                    if (dash < 0) {
                        throw new ConfigException(where + "${" + variable + "} is not set (expected: environment "
                                + "variable " + variable + " set, or a default: ${" + variable + ":-default})");
                    }
                    value = body.substring(dash + 2);
                }
                out.append(value);
                i = end + 1;
            } else {
                out.append(text.charAt(i));
                i++;
            }
        }
        return out.toString();
    }
}
