package dev.ferry.platform.local;

import java.util.Optional;

/**
 * The Jupyter application a local environment runs, by the name the build's probe prints
 * ({@link LocalEnvBuilder#JUPYTER_PROBE}) and the environment's record keeps: JupyterLab when it is there (it opens
 * {@code /lab}, as mybinder.org does), else Notebook 7, else the classic Notebook (whose configuration answers
 * mybinder's {@code /lab} and {@code labpath} links with its own pages), else a bare jupyter_server.
 */
enum JupyterApp {
    LAB("lab", "jupyterlab", "ServerApp"),
    NOTEBOOK7("notebook7", "notebook", "ServerApp"),
    NOTEBOOK6("notebook6", "notebook", "NotebookApp"),
    SERVER("server", "jupyter_server", "ServerApp");

    private final String name;
    private final String module;
    private final String configClass;

    JupyterApp(String name, String module, String configClass) {
        this.name = name;
        this.module = module;
        this.configClass = configClass;
    }

    /** The application of this name; empty for the probe's {@code none} (no Jupyter server in the environment). */
    static Optional<JupyterApp> named(String name) {
        for (JupyterApp app : values()) {
            if (app.name.equals(name)) {
                return Optional.of(app);
            }
        }
        return Optional.empty();
    }

    /** The Python module run with {@code python -m}. */
    String module() {
        return module;
    }

    /** The class whose traits the server's command line and configuration set ({@code --ServerApp.port=...}). */
    String configClass() {
        return configClass;
    }

    @Override
    public String toString() {
        return name;
    }
}
