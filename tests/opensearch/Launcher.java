import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * Runs real OpenSearch nodes in this JVM for the tests (started by node.py).
 *
 * Why a launcher and not the runner's own main: the ports must be the free loopback ports the
 * tests picked (several engineers share the machine), and the tests must be able to stop one
 * node for the failover test. Lines on stdin drive it ("stop N", "start N"); end of stdin (the
 * test process died or finished) closes every node and exits, so no JVM outlives its tests.
 *
 * args: basePath clusterName httpPort,httpPort,... transportPort,transportPort,...
 */
public class Launcher {
    public static void main(String[] args) throws Exception {
        String basePath = args[0];
        String clusterName = args[1];
        String[] httpPorts = args[2].split(",");
        String[] transportPorts = args[3].split(",");
        int nodes = httpPorts.length;
        List<String> seeds = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            seeds.add("127.0.0.1:" + transportPorts[i]);
            names.add("Node " + (i + 1));
        }
        OpenSearchRunner runner = new OpenSearchRunner();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> closeQuietly(runner)));
        runner.onBuild((number, settings) -> {
            int index = number - 1; // the runner numbers nodes from 1
            settings.put("network.host", "127.0.0.1");
            settings.put("http.port", httpPorts[index]);
            settings.put("transport.port", transportPorts[index]);
            // A shared machine's disk may be fuller than the default watermarks allow.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            // As on Elasticsearch 8+: a sort or aggregation on _id is refused.
            settings.put("indices.id_field_data.enabled", false);
            if (nodes > 1) {
                settings.putList("discovery.seed_hosts", seeds);
                settings.putList("cluster.initial_cluster_manager_nodes", names);
            }
        }).build(OpenSearchRunner.newConfigs()
                .basePath(basePath)
                .clusterName(clusterName)
                .numOfNode(nodes)
                .disableESLogger());
        runner.ensureYellow();
        System.out.println("READY");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split(" ");
            if (words.length == 2 && words[0].equals("stop")) {
                runner.getNode(Integer.parseInt(words[1])).close();
                System.out.println("STOPPED " + words[1]);
            } else if (words.length == 2 && words[0].equals("start")) {
                runner.startNode(Integer.parseInt(words[1]));
                System.out.println("STARTED " + words[1]);
            } else {
                System.out.println("UNKNOWN " + line);
            }
            System.out.flush();
        }
        closeQuietly(runner);
        System.exit(0);
    }

    private static void closeQuietly(OpenSearchRunner runner) {
        try {
            if (!runner.isClosed()) {
                runner.close();
            }
            runner.clean();
        } catch (Exception e) {
            System.err.println("closing the nodes failed: " + e);
        }
    }
}
