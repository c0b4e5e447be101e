"""What the index holds of a narrator follows their choice of identity at once."""

from testimonies import search, services
from testimonies.models import Narrator, Testimony

from ..factories import NarratorFactory, indexed_testimony
from .index import assert_index_exact


def test_a_narrator_who_becomes_anonymous_is_no_longer_found_by_name(db):
    narrator = NarratorFactory(
        public_name="Ysaline", identity=Narrator.Identity.PSEUDONYM
    )
    testimony = indexed_testimony("quai", "Le quai de chargement.", narrator=narrator)
    staff_view = Testimony.objects.all()
    assert [h.testimony for h in search.search("Ysaline", staff_view).hits] == [
        testimony
    ]
    services.narrator_update(
        narrator=narrator, changes={"identity": Narrator.Identity.ANONYMOUS}
    )
    assert search.search("Ysaline", staff_view).total == 0
    assert_index_exact()
