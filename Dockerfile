# Ferry's image: the portal (no arguments) and the kubernetes build Job's prepare step (arguments `prepare --repo …
# --commit … --out /workspace`, dispatched by FerryApplication before Spring starts). Build: docker build -t ferry .

# The base images are build arguments with these defaults, so that a mirror or a local image can stand in
# (docker build --build-arg RUNTIME_IMAGE=… ; the tests use images made from Debian's openjdk-17 packages).
ARG BUILD_IMAGE=eclipse-temurin:17-jdk
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre
# Where the jar comes from: `compiled` builds it here (Maven Central); `prebuilt` takes the target/ferry.jar that
# `./mvnw package` made (--build-arg JAR=prebuilt; BuildKit builds only the stages the image needs).
ARG JAR=compiled

FROM ${BUILD_IMAGE} AS compiled
WORKDIR /src
# the wrapper and the POM first, so that the dependency download is cached while only sources change
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:go-offline
COPY src/main src/main
COPY frontend/static frontend/static
COPY docs docs
RUN ./mvnw -B -DskipTests package

FROM ${RUNTIME_IMAGE} AS prebuilt
WORKDIR /src
COPY target/ferry.jar target/ferry.jar

FROM ${JAR} AS build
WORKDIR /src
RUN java -Djarmode=tools -jar target/ferry.jar extract --layers --launcher --destination /extracted

FROM ${RUNTIME_IMAGE}
WORKDIR /app
# layers from the least to the most often changed, so that a code change rebuilds only the last one
COPY --from=build /extracted/dependencies/ ./
COPY --from=build /extracted/spring-boot-loader/ ./
COPY --from=build /extracted/snapshot-dependencies/ ./
COPY --from=build /extracted/application/ ./
# never root; the Deployment also says runAsNonRoot with this uid. No git: Ferry uses JGit.
USER 1000:1000
# On the cluster the root filesystem is read-only and /tmp an emptyDir (portal and build Job alike): JGit's user
# configuration and the JVM's temporary files go there.
ENV HOME=/tmp
EXPOSE 8080
# -cp /app: the build Job may run the prepare step in another working directory. ExitOnOutOfMemoryError: a JVM out of
# memory is left half alive (some threads dead, others running); ended, it is restarted by Kubernetes.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError", "-Duser.home=/tmp", "-cp", "/app", "org.springframework.boot.loader.launch.JarLauncher"]
