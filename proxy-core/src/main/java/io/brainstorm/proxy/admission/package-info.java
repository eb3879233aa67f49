/**
 * Whether a request may go to the providers at all: {@link io.brainstorm.proxy.admission.Admission}
 * checks the key's rate limits and reserves its worst-case cost against the daily budget; the
 * {@link io.brainstorm.proxy.admission.Ticket} it hands out is settled with the actual cost.
 */
package io.brainstorm.proxy.admission;
