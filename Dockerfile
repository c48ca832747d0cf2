# syntax=docker/dockerfile:1
# coldserve image: build and test with the README's commands, ship a small non-root runtime.
# The Helm chart (deploy/helm/coldserve) runs it as ghcr.io/coldserve/coldserve:<chart appVersion>.
#
#   docker build -t ghcr.io/coldserve/coldserve:0.1.0 .   # or: docker build -t coldserve .
#   docker run --rm -p 8080:8080 coldserve serve --model demo
#   docker run --rm -p 8080:8080 -v "$PWD/models/ColD-Fusion:/models/model:ro" coldserve

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
# The chart test (make test) is a module of its own: fetch the Helm SDK in a cached layer too.
COPY deploy/go.mod deploy/go.sum deploy/
RUN cd deploy && go mod download
COPY . .
# The README's test command (vet, docs check, race tests), then the binary.
RUN make test && make build

FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends libopenblas0-openmp libdnnl2 \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin coldserve \
	&& mkdir -p /models && chown coldserve:coldserve /models
COPY --from=build /src/bin/coldserve /usr/local/bin/coldserve
USER coldserve
# Listen on every interface inside the container; mount a checkpoint directory at /models/model.
ENV COLDSERVE_ADDR=0.0.0.0:8080 \
	COLDSERVE_MODEL=/models/model \
	COLDSERVE_LOG_FORMAT=json
VOLUME ["/models"]
EXPOSE 8080
# `coldserve healthcheck` GETs /healthz on COLDSERVE_ADDR (no curl needed in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["coldserve", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["coldserve"]
CMD ["serve"]
