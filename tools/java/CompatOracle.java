/*
 * Reference verdicts from Apache Avro Java's SchemaCompatibility, for differential tests.
 *
 * Reads JSON lines {"reader": <schema>, "writer": <schema>} on stdin (each schema is
 * schema JSON, not a string holding it) and prints one JSON line per input:
 *   {"compatible": true|false, "problems": [{"type": ..., "location": ..., "message": ...}]}
 * or {"error": "<exception class>: <message>"} when Avro rejects a schema or the check throws.
 *
 * Build and run (the classpath needs avro, jackson-core, jackson-databind,
 * jackson-annotations and slf4j-api jars):
 *   javac -cp "$JARS/*" -d OUT tools/java/CompatOracle.java
 *   java -cp "OUT:$JARS/*" CompatOracle < pairs.jsonl
 */

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

public final class CompatOracle {
  private CompatOracle() {
  }

  public static void main(String[] args) throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      out.write(mapper.writeValueAsString(verdict(mapper, mapper.readTree(line))));
      out.newLine();
      out.flush();
    }
  }

  private static ObjectNode verdict(ObjectMapper mapper, JsonNode pair) {
    ObjectNode answer = mapper.createObjectNode();
    try {
      // A parser per schema: reader and writer may define the same names.
      Schema reader = new Schema.Parser().parse(mapper.writeValueAsString(pair.get("reader")));
      Schema writer = new Schema.Parser().parse(mapper.writeValueAsString(pair.get("writer")));
      SchemaCompatibility.SchemaCompatibilityResult result =
          SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult();
      answer.put("compatible",
          result.getCompatibility() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
      ArrayNode problems = answer.putArray("problems");
      for (SchemaCompatibility.Incompatibility problem : result.getIncompatibilities()) {
        ObjectNode item = problems.addObject();
        item.put("type", problem.getType().name());
        item.put("location", problem.getLocation());
        item.put("message", problem.getMessage());
      }
    } catch (Exception | AssertionError err) {
      answer.removeAll();
      answer.put("error", err.getClass().getName() + ": " + err.getMessage());
    }
    return answer;
  }
}
