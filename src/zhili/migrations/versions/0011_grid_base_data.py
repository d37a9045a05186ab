"""grid base data: addresses, houses, residents, units, places, change history

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa
import zhili.models.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.Enum('road', 'building', 'unit', 'room', name='addresslevel', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('full_name', sa.String(length=300), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_addresses_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['addresses.id'], name=op.f('fk_addresses_parent_id_addresses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses')),
    sa.UniqueConstraint('parent_id', 'name', name='uq_addresses_parent_name')
    )
    op.create_index(op.f('ix_addresses_area_code'), 'addresses', ['area_code'], unique=False)
    op.create_index(op.f('ix_addresses_full_name'), 'addresses', ['full_name'], unique=False)
    op.create_index(op.f('ix_addresses_grid_id'), 'addresses', ['grid_id'], unique=False)
    op.create_index(op.f('ix_addresses_parent_id'), 'addresses', ['parent_id'], unique=False)
    op.create_table('base_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('create', 'update', 'merge', 'merged', 'delete', name='changeaction', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('staff_name', sa.String(length=50), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_base_changes_staff_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_base_changes'))
    )
    op.create_index(op.f('ix_base_changes_area_code'), 'base_changes', ['area_code'], unique=False)
    op.create_index('ix_base_changes_entity', 'base_changes', ['entity', 'entity_id', 'id'], unique=False)
    op.create_table('base_export_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.String(length=500), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'denied', 'withdrawn', name='exportstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_name', sa.String(length=50), nullable=False),
    sa.Column('requested_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=50), nullable=False),
    sa.Column('decided_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.Column('expires_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('downloads', sa.Integer(), nullable=False),
    sa.Column('last_downloaded_at', zhili.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff.id'], name=op.f('fk_base_export_requests_decided_by_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff.id'], name=op.f('fk_base_export_requests_requested_by_id_staff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_base_export_requests'))
    )
    op.create_index(op.f('ix_base_export_requests_region_code'), 'base_export_requests', ['region_code'], unique=False)
    op.create_index(op.f('ix_base_export_requests_requested_by_id'), 'base_export_requests', ['requested_by_id'], unique=False)
    op.create_index(op.f('ix_base_export_requests_status'), 'base_export_requests', ['status'], unique=False)
    op.create_table('houses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.Integer(), nullable=False),
    sa.Column('use', sa.Enum('residential', 'commercial', 'office', 'industrial', 'mixed', 'other', name='houseuse', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('owner_name', sa.String(length=50), nullable=False),
    sa.Column('owner_phone', sa.String(length=120), nullable=False),
    sa.Column('owner_phone_index', sa.String(length=40), nullable=False),
    sa.Column('floor_area_m2', sa.Float(), nullable=True),
    sa.Column('rented', sa.Boolean(), nullable=False),
    sa.Column('group_rental', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], name=op.f('fk_houses_address_id_addresses'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_houses_grid_id_grids'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_houses')),
    sa.UniqueConstraint('address_id', name=op.f('uq_houses_address_id'))
    )
    op.create_index(op.f('ix_houses_area_code'), 'houses', ['area_code'], unique=False)
    op.create_index(op.f('ix_houses_grid_id'), 'houses', ['grid_id'], unique=False)
    op.create_index(op.f('ix_houses_owner_phone_index'), 'houses', ['owner_phone_index'], unique=False)
    op.create_table('places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('school', 'hospital', 'scenic', 'water', 'market', 'hazardous', 'venue', 'other', name='placekind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('manager', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=False),
    sa.Column('phone_index', sa.String(length=40), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], name=op.f('fk_places_address_id_addresses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_places_grid_id_grids'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_places'))
    )
    op.create_index(op.f('ix_places_area_code'), 'places', ['area_code'], unique=False)
    op.create_index(op.f('ix_places_grid_id'), 'places', ['grid_id'], unique=False)
    op.create_index(op.f('ix_places_name'), 'places', ['name'], unique=False)
    op.create_index(op.f('ix_places_phone_index'), 'places', ['phone_index'], unique=False)
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('enterprise', 'shop', 'institution', 'government', 'social_org', 'other', name='unitkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('legal_person', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=120), nullable=False),
    sa.Column('phone_index', sa.String(length=40), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['addresses.id'], name=op.f('fk_units_address_id_addresses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_units_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['units.id'], name=op.f('fk_units_merged_into_id_units'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units'))
    )
    op.create_index(op.f('ix_units_address_id'), 'units', ['address_id'], unique=False)
    op.create_index(op.f('ix_units_area_code'), 'units', ['area_code'], unique=False)
    op.create_index(op.f('ix_units_credit_code'), 'units', ['credit_code'], unique=False)
    op.create_index(op.f('ix_units_grid_id'), 'units', ['grid_id'], unique=False)
    op.create_index(op.f('ix_units_name'), 'units', ['name'], unique=False)
    op.create_index(op.f('ix_units_merged_into_id'), 'units', ['merged_into_id'], unique=False)
    op.create_index(op.f('ix_units_phone_index'), 'units', ['phone_index'], unique=False)
    op.create_table('residents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=120), nullable=False),
    sa.Column('id_number_index', sa.String(length=40), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=120), nullable=False),
    sa.Column('phone_index', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('registered', 'floating', 'overseas', 'left_behind', name='residentkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('house_id', sa.Integer(), nullable=True),
    sa.Column('household_head', sa.Boolean(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('ethnicity', sa.String(length=20), nullable=False),
    sa.Column('origin', sa.String(length=100), nullable=False),
    sa.Column('nationality', sa.String(length=40), nullable=False),
    sa.Column('workplace', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('area_code', sa.String(length=15), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('moved_out_on', sa.Date(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', zhili.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_residents_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['house_id'], ['houses.id'], name=op.f('fk_residents_house_id_houses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['residents.id'], name=op.f('fk_residents_merged_into_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residents'))
    )
    op.create_index(op.f('ix_residents_area_code'), 'residents', ['area_code'], unique=False)
    op.create_index(op.f('ix_residents_grid_id'), 'residents', ['grid_id'], unique=False)
    op.create_index(op.f('ix_residents_house_id'), 'residents', ['house_id'], unique=False)
    op.create_index(op.f('ix_residents_id_number_index'), 'residents', ['id_number_index'], unique=False)
    op.create_index(op.f('ix_residents_name'), 'residents', ['name'], unique=False)
    op.create_index(op.f('ix_residents_merged_into_id'), 'residents', ['merged_into_id'], unique=False)
    op.create_index(op.f('ix_residents_phone_index'), 'residents', ['phone_index'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_residents_phone_index'), table_name='residents')
    op.drop_index(op.f('ix_residents_merged_into_id'), table_name='residents')
    op.drop_index(op.f('ix_residents_name'), table_name='residents')
    op.drop_index(op.f('ix_residents_id_number_index'), table_name='residents')
    op.drop_index(op.f('ix_residents_house_id'), table_name='residents')
    op.drop_index(op.f('ix_residents_grid_id'), table_name='residents')
    op.drop_index(op.f('ix_residents_area_code'), table_name='residents')
    op.drop_table('residents')
    op.drop_index(op.f('ix_units_phone_index'), table_name='units')
    op.drop_index(op.f('ix_units_merged_into_id'), table_name='units')
    op.drop_index(op.f('ix_units_name'), table_name='units')
    op.drop_index(op.f('ix_units_grid_id'), table_name='units')
    op.drop_index(op.f('ix_units_credit_code'), table_name='units')
    op.drop_index(op.f('ix_units_area_code'), table_name='units')
    op.drop_index(op.f('ix_units_address_id'), table_name='units')
    op.drop_table('units')
    op.drop_index(op.f('ix_places_phone_index'), table_name='places')
    op.drop_index(op.f('ix_places_name'), table_name='places')
    op.drop_index(op.f('ix_places_grid_id'), table_name='places')
    op.drop_index(op.f('ix_places_area_code'), table_name='places')
    op.drop_table('places')
    op.drop_index(op.f('ix_houses_owner_phone_index'), table_name='houses')
    op.drop_index(op.f('ix_houses_grid_id'), table_name='houses')
    op.drop_index(op.f('ix_houses_area_code'), table_name='houses')
    op.drop_table('houses')
    op.drop_index(op.f('ix_base_export_requests_status'), table_name='base_export_requests')
    op.drop_index(op.f('ix_base_export_requests_requested_by_id'), table_name='base_export_requests')
    op.drop_index(op.f('ix_base_export_requests_region_code'), table_name='base_export_requests')
    op.drop_table('base_export_requests')
    op.drop_index('ix_base_changes_entity', table_name='base_changes')
    op.drop_index(op.f('ix_base_changes_area_code'), table_name='base_changes')
    op.drop_table('base_changes')
    op.drop_index(op.f('ix_addresses_parent_id'), table_name='addresses')
    op.drop_index(op.f('ix_addresses_grid_id'), table_name='addresses')
    op.drop_index(op.f('ix_addresses_full_name'), table_name='addresses')
    op.drop_index(op.f('ix_addresses_area_code'), table_name='addresses')
    op.drop_table('addresses')
