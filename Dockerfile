# backpropviz server: a static binary on a distroless base.
#
#   docker build -t backpropviz .
#   docker run -p 8080:8080 backpropviz
#
# Settings are environment variables (BPV_<FLAG>, see docs/hosting.md), e.g.
#   docker run -p 8080:8080 -e BPV_TRUSTED_PROXIES=10.0.0.0/8 backpropviz

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary (the engine's assembly kernels are Go assembly).
# The version shown on the pages and in /metrics (.git is not copied, so
# the build cannot read it): docker build --build-arg VERSION=$(git describe --always --dirty) .
ARG VERSION=
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/vizserver ./cmd/vizserver

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vizserver /vizserver
# Listen on every interface of the container; publish the port with -p.
ENV BPV_ADDR=:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/vizserver"]
