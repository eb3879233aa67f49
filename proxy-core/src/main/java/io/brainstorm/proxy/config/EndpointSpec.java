package io.brainstorm.proxy.config;

/**
 * One simulated endpoint of a {@code sim/…} model as written in {@code models.yaml}: a provider
 * account with its own price and behaviour. Endpoints of real models come from the providers in
 * {@code brainstorm.yaml} instead.
 *
 * @param id    the endpoint's name, e.g. {@code sim-east}; also the path prefix on the sim server
 * @param price what this endpoint charges
 * @param sim   how it behaves
 */
public record EndpointSpec(String id, Price price, SimProfile sim) {}
